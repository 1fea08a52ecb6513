"""Shared fixtures: the package from this source tree, test images, a real `hotpath serve`."""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

import pytest

PYTHON_DIR = Path(__file__).resolve().parent.parent
REPO = PYTHON_DIR.parent
sys.path.insert(0, str(PYTHON_DIR))


def make_jpeg(width: int, height: int, quality: int = 85) -> bytes:
    """Return a photo-like JPEG of the given size (gradient plus noise), made with Pillow."""
    from PIL import Image

    grad = Image.linear_gradient("L").resize((width, height))
    noise = Image.effect_noise((width, height), 40).convert("L")
    im = Image.merge("RGB", (grad, noise, grad.transpose(Image.Transpose.FLIP_LEFT_RIGHT)))
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=quality)
    return buf.getvalue()


@pytest.fixture(scope="session")
def jpeg() -> bytes:
    """A 1200×800 JPEG."""
    return make_jpeg(1200, 800)


@pytest.fixture(scope="session")
def repo() -> Path:
    """The repository root."""
    return REPO
