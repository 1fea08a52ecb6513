"""Shared fixtures: the package from this source tree, test images, a real `hotpath serve`."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

PYTHON_DIR = Path(__file__).resolve().parent.parent
REPO = PYTHON_DIR.parent
sys.path.insert(0, str(PYTHON_DIR))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from support import Server, make_jpeg  # noqa: E402


@pytest.fixture(scope="session")
def jpeg() -> bytes:
    """A 1200×800 JPEG."""
    return make_jpeg(1200, 800)


@pytest.fixture(scope="session")
def repo() -> Path:
    """The repository root."""
    return REPO


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """A running `hotpath serve` for the whole session."""
    s = Server(tmp_path_factory.mktemp("serve"))
    yield s
    s.stop()
