"""Build hook: compile libhotpath.so from the Go sources into the built package.

``pip install ./python``, ``pip wheel ./python`` (``make wheel``) or
``python -m build`` run ``build_py``, which runs ``go build
-buildmode=c-shared`` on the hotpath module (the parent of this directory, or
``$HOTPATH_GO_MODULE``) and writes libhotpath.so and its header into the
*build* tree's ``hotpath/native/`` — never into the source tree, where a
stale copy could shadow a fresh ``make python``. It needs Go and libvips'
development files. ``HOTPATH_LIBRARY=/path/libhotpath.so`` packages a library
built beforehand instead (no Go needed).

The wheel is tagged ``py3-none-linux_x86_64`` (the platform of the build): it
carries a native library, so it is not ``any``, but that library is loaded
with ctypes and does not use Python's C API, so one wheel serves every
Python 3 (no ``cp3X``/``abi3`` tag is needed).
"""

import os
import shutil
import subprocess
from pathlib import Path

from setuptools import Distribution, setup
from setuptools.command.build_py import build_py

try:
    from wheel.bdist_wheel import bdist_wheel
except ImportError:  # building without the wheel package: no wheel tag to set
    bdist_wheel = None


class BuildWithGo(build_py):
    """build_py that also compiles the Go shared library into the built package."""

    def run(self) -> None:
        super().run()
        here = Path(__file__).resolve().parent
        native = Path(self.build_lib) / "hotpath" / "native"
        native.mkdir(parents=True, exist_ok=True)
        prebuilt = os.environ.get("HOTPATH_LIBRARY")
        if prebuilt:
            shutil.copy2(prebuilt, native / "libhotpath.so")
            header = Path(prebuilt).with_suffix(".h")
            if header.is_file():
                shutil.copy2(header, native / "libhotpath.h")
            return
        module = Path(os.environ.get("HOTPATH_GO_MODULE", here.parent))
        if not (module / "go.mod").is_file():
            raise SystemExit(f"hotpath: no Go module at {module} (set HOTPATH_GO_MODULE to the repository root, "
                             "or HOTPATH_LIBRARY to a built libhotpath.so)")
        go = shutil.which("go")
        if go is None:
            raise SystemExit("hotpath: the Go toolchain ('go') is needed to build libhotpath.so (or set HOTPATH_LIBRARY)")
        cmd = [go, "build", "-trimpath", "-buildmode=c-shared", "-o", str(native / "libhotpath.so"), "./capi"]
        self.announce("running " + " ".join(cmd), level=2)
        subprocess.run(cmd, cwd=module, check=True)


class NativeDistribution(Distribution):
    """A distribution with a native library: built and installed as platform-specific (platlib)."""

    def has_ext_modules(self) -> bool:
        return True


cmdclass = {"build_py": BuildWithGo}

if bdist_wheel is not None:

    class PlatformWheel(bdist_wheel):
        """A wheel for this platform that any Python 3 can use (see the module's doc)."""

        def get_tag(self):  # type: ignore[no-untyped-def]
            _, _, plat = super().get_tag()
            return "py3", "none", plat

    cmdclass["bdist_wheel"] = PlatformWheel


_here = Path(__file__).resolve().parent
# In the repository, setuptools' scratch files go under the ignored build/.
_options = {"build": {"build_base": str(_here.parent / "build" / "python-setuptools")}} if (_here.parent / "go.mod").is_file() else {}

setup(cmdclass=cmdclass, distclass=NativeDistribution, options=_options)
