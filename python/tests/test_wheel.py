"""`make wheel`: a platform wheel carrying libhotpath.so, installed offline into a fresh venv without Go."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile

import pytest

from support import REPO


def test_wheel_installs_into_a_fresh_venv_and_imports_elsewhere(tmp_path):
    env = dict(os.environ)
    subprocess.run(["make", "-s", "wheel", f"PYTHON={sys.executable}"], cwd=REPO, check=True, env=env, timeout=600)
    wheels = list((REPO / "build" / "wheel").glob("hotpath-*.whl"))
    assert len(wheels) == 1, wheels
    wheel = wheels[0]
    assert wheel.name.endswith("-py3-none-linux_x86_64.whl"), wheel.name
    names = zipfile.ZipFile(wheel).namelist()
    assert "hotpath/native/libhotpath.so" in names

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    pip = venv / "bin" / "pip"
    subprocess.run([str(pip), "install", "-q", "--no-index", str(wheel)], check=True, timeout=120)
    # No Go, no source tree, no HOTPATH_LIB: only what the wheel installed.
    clean = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "HOTPATH_LIB")}
    clean["PATH"] = "/usr/bin:/bin"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out = subprocess.run(
        [str(venv / "bin" / "python"), "-c",
         "import hotpath; print(hotpath.count_unique(['a','b','a']), hotpath._lib.library_path())"],
        cwd=elsewhere, env=clean, capture_output=True, text=True, timeout=60,
    )
    assert out.returncode == 0, out.stderr
    count, path = out.stdout.split()
    assert count == "2" and path.startswith(str(venv)), out.stdout


def test_source_install_leaves_no_library_in_the_source_tree():
    assert not (REPO / "python" / "hotpath" / "libhotpath.so").exists()
    assert not (REPO / "python" / "hotpath" / "native").exists()
