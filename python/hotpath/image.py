"""Image scaling with hotpath's libvips engine, in-process.

``thumbnail()`` runs the same engine, options and limits as ``hotpath serve``:
shrink-on-load, EXIF orientation applied, metadata stripped, the input format
found from the bytes. The GIL is released while libvips works, so Python
threads scale images in parallel.
"""

from __future__ import annotations

import ctypes
import json
from dataclasses import dataclass
from typing import Any, Dict, Optional, Sequence

from . import _lib
from .errors import InvalidError

__all__ = ["thumbnail", "transform", "Rendition"]

FITS = ("fit", "fill", "pad", "force")
FORMATS = ("jpeg", "png", "webp", "avif")
GRAVITIES = ("centre", "north", "south", "east", "west", "smart", "entropy")


@dataclass(frozen=True)
class Rendition:
    """One encoded output image."""

    data: bytes
    format: str
    width: int
    height: int


def transform(
    data: bytes,
    width: int = 0,
    height: Optional[int] = None,
    *,
    fit: str = "fit",
    format: str = "webp",
    quality: int = 80,
    gravity: Optional[str] = None,
    background: Optional[Sequence[int]] = None,
    keep_metadata: bool = False,
    cancel: Optional[_lib.CancelToken] = None,
) -> Rendition:
    """Scale an encoded image and return the result with its format and dimensions.

    Args:
        data: the encoded input (JPEG, PNG, WebP, GIF, AVIF/HEIF or TIFF).
        width: output width in pixels; 0 derives it from height and the aspect.
        height: output height; None or 0 derives it from width and the aspect
            (with ``fit="fit"`` the image fits a width × width box when only
            width is given, as the server's presets do).
        fit: ``"fit"`` (inside the box), ``"fill"`` (cover, then crop at
            ``gravity``), ``"pad"`` (inside, padded with ``background``) or
            ``"force"`` (exactly the box).
        format: ``"jpeg"``, ``"png"``, ``"webp"`` or ``"avif"``.
        quality: 1-100.
        gravity: for ``fill``: centre, north, south, east, west, smart, entropy.
        background: pad colour as RGB or RGBA 0-255.
        keep_metadata: keep EXIF/XMP/ICC instead of stripping them.
        cancel: a :class:`CancelToken` that stops the work from another thread.

    Raises:
        InvalidError: bad options, a negative size, no size at all, or empty data (a ValueError).
        TooLargeError: the image is beyond the server's default limits.
        UnsupportedError: not an image format hotpath reads.
        UnprocessableError: a corrupt or truncated image.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"thumbnail data must be bytes, got {type(data).__name__}")
    if width is None or width < 0 or (height is not None and height < 0):
        raise InvalidError(f"sizes must not be negative: width {width}, height {height}")
    if not width and not height:
        raise InvalidError("a width or a height is needed: with neither the image would not be scaled")
    buf = bytes(data)
    opts: Dict[str, Any] = {"fit": fit, "format": format, "quality": quality}
    if width:
        opts["width"] = int(width)
    if height:
        opts["height"] = int(height)
    elif width and fit == "fit":
        opts["height"] = int(width)
    if gravity is not None:
        opts["gravity"] = gravity
    if background is not None:
        opts["background"] = list(background)
    if keep_metadata:
        opts["keep_metadata"] = True
    lib = _lib.lib()
    copts = json.dumps(opts).encode()

    def call(token: int) -> Rendition:
        out = _lib.Image()
        err = _lib.Error()
        rc = lib.hotpath_thumbnail(buf, len(buf), copts, token, ctypes.byref(out), ctypes.byref(err))
        _lib.check(rc, err)
        return Rendition(
            data=_lib.take_bytes(out.data, out.len),
            format=out.format.decode("ascii"),
            width=out.width,
            height=out.height,
        )

    if cancel is None:
        return call(0)  # milliseconds: no helper thread for Ctrl-C
    return _lib.cancellable(call, cancel)


def thumbnail(
    data: bytes,
    width: int,
    height: Optional[int] = None,
    *,
    fit: str = "fit",
    format: str = "webp",
    quality: int = 80,
    cancel: Optional[_lib.CancelToken] = None,
) -> bytes:
    """Scale an encoded image to ``width`` × ``height`` and return the encoded bytes.

    With only ``width`` and ``fit="fit"`` the longest side becomes ``width``;
    a width of 0 or below is an :class:`InvalidError` (a ValueError).
    See :func:`transform` for the arguments, the errors, and a variant that
    also returns the output's dimensions.
    """
    if not width or width < 0:
        raise InvalidError(f"thumbnail width must be a positive number of pixels, got {width}")
    return transform(data, width, height, fit=fit, format=format, quality=quality, cancel=cancel).data
