"""hotpath for Python: Go engines in-process, and clients for the hotpath service.

In-process (through libhotpath.so, the Go engines behind a C ABI; the GIL is
released while they work):

* :func:`count_unique` — ``len(set(items))`` for str/bytes iterables, in Go.
* :func:`count_unique_file` — distinct values of a CSV/text file, as ``hotpath uniq``.
* :func:`thumbnail` / :func:`transform` — scale an image with libvips, as ``hotpath serve``.
* :func:`encrypt` / :func:`decrypt`, :func:`encrypt_file` / :func:`decrypt_file` —
  AES-256-GCM in 64 KiB packages on every core, the format of ``hotpath encrypt``
  and of the service's blobs at rest (docs/encryption.md).
* :func:`acount_unique_file`, :func:`athumbnail`, ... — the same, awaited from
  asyncio code without blocking the event loop; :class:`CancelToken` stops a call.

Over HTTP: :class:`Client` (blocking, standard library only) and
:class:`AsyncClient` (asyncio, on httpx), with the same methods.

Fork safety: the native library is loaded on first use. A process forked
after its parent used it cannot call it (:class:`ForkError`); use hotpath only
in the children, or the ``spawn`` start method.
"""

from __future__ import annotations

from . import aio, async_client, client, encryption, errors, image, uniq
from ._lib import CancelToken
from ._lib import version as library_version
from .aio import *  # noqa: F401,F403
from .async_client import *  # noqa: F401,F403
from .client import *  # noqa: F401,F403
from .encryption import *  # noqa: F401,F403
from .errors import *  # noqa: F401,F403
from .image import *  # noqa: F401,F403
from .uniq import *  # noqa: F401,F403

__version__ = "0.1.0"

__all__ = ["library_version", "CancelToken", *uniq.__all__, *image.__all__, *aio.__all__, *client.__all__,
           *async_client.__all__, *encryption.__all__, *errors.__all__]
