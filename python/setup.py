"""Build hook: compile libhotpath.so from the Go sources before packaging.

``pip install ./python`` (or ``python -m build``) runs ``build_py``, which
runs ``go build -buildmode=c-shared`` on the hotpath module (the parent of
this directory, or ``$HOTPATH_GO_MODULE``) and puts libhotpath.so and its
header inside the package. It needs Go and libvips' development files
(``make python`` in the repository checks the same). Set
``HOTPATH_SKIP_GO_BUILD=1`` to package a library built beforehand into
``hotpath/``.
"""

import os
import shutil
import subprocess
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildWithGo(build_py):
    """build_py that first compiles the Go shared library into the package."""

    def run(self) -> None:
        here = Path(__file__).resolve().parent
        module = Path(os.environ.get("HOTPATH_GO_MODULE", here.parent))
        pkg = here / "hotpath"
        if not os.environ.get("HOTPATH_SKIP_GO_BUILD"):
            if not (module / "go.mod").is_file():
                raise SystemExit(f"hotpath: no Go module at {module} (set HOTPATH_GO_MODULE to the repository root)")
            go = shutil.which("go")
            if go is None:
                raise SystemExit("hotpath: the Go toolchain ('go') is needed to build libhotpath.so")
            cmd = [go, "build", "-trimpath", "-buildmode=c-shared", "-o", str(pkg / "libhotpath.so"), "./capi"]
            self.announce("running " + " ".join(cmd), level=2)
            subprocess.run(cmd, cwd=module, check=True)
        super().run()


_here = Path(__file__).resolve().parent
# In the repository, setuptools' scratch files go under the ignored build/.
_options = {"build": {"build_base": str(_here.parent / "build" / "python-setuptools")}} if (_here.parent / "go.mod").is_file() else {}

setup(cmdclass={"build_py": BuildWithGo}, options=_options)
