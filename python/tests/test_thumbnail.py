"""thumbnail/transform: dimensions, formats, modes and errors of the in-process image engine."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image

import hotpath
from support import make_jpeg


def decoded(data: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(data))
    im.load()
    return im


@pytest.mark.parametrize(
    "args, kwargs, want_size",
    [
        ((200,), {}, (200, 133)),
        ((400, 400), {"fit": "fit"}, (400, 267)),
        ((300, 300), {"fit": "fill"}, (300, 300)),
        ((300, 300), {"fit": "pad"}, (300, 300)),
        ((123, 77), {"fit": "force"}, (123, 77)),
    ],
)
def test_modes_give_asked_dimensions(jpeg, args, kwargs, want_size):
    out = hotpath.thumbnail(jpeg, *args, **kwargs)
    assert decoded(out).size == want_size


@pytest.mark.parametrize("fmt, pil", [("jpeg", "JPEG"), ("png", "PNG"), ("webp", "WEBP"), ("avif", None)])
def test_output_formats(jpeg, fmt, pil):
    r = hotpath.transform(jpeg, 160, format=fmt)
    assert r.format == fmt
    assert (r.width, r.height) == (160, 107)
    if pil:  # Debian's Pillow 9.4 cannot read AVIF; its ftyp box says what it is
        assert decoded(r.data).format == pil
    else:
        assert r.data[4:12] == b"ftypavif"


def test_quality_changes_size(jpeg):
    small = hotpath.thumbnail(jpeg, 600, format="jpeg", quality=20)
    large = hotpath.thumbnail(jpeg, 600, format="jpeg", quality=95)
    assert len(small) < len(large)


def test_input_formats(jpeg):
    src = decoded(jpeg)
    for pil_fmt in ("PNG", "WEBP", "GIF", "TIFF"):
        buf = io.BytesIO()
        src.save(buf, pil_fmt)
        out = hotpath.transform(buf.getvalue(), 100, format="png")
        assert (out.width, out.height) == (100, 67), pil_fmt


def test_exif_orientation_applied():
    im = decoded(make_jpeg(300, 200))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    buf = io.BytesIO()
    im.save(buf, "JPEG", exif=exif)
    r = hotpath.transform(buf.getvalue(), 100, format="jpeg")
    assert r.height > r.width  # displayed upright: portrait
    assert (r.width, r.height) == decoded(r.data).size
    assert (r.width, r.height) == (67, 100)  # inside the 100×100 box, exactly


def test_bytearray_and_memoryview_inputs(jpeg):
    assert decoded(hotpath.thumbnail(bytearray(jpeg), 50)).size == (50, 33)
    assert decoded(hotpath.thumbnail(memoryview(jpeg), 50)).size == (50, 33)


def png_header_only(width: int, height: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = struct.pack(">I", len(ihdr)) + b"IHDR" + ihdr + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    idat = zlib.compress(b"\x00" * 64)
    data = struct.pack(">I", len(idat)) + b"IDAT" + idat + struct.pack(">I", zlib.crc32(b"IDAT" + idat))
    end = struct.pack(">I", 0) + b"IEND" + struct.pack(">I", zlib.crc32(b"IEND"))
    return b"\x89PNG\r\n\x1a\n" + chunk + data + end


@pytest.mark.parametrize(
    "data, kwargs, exc, code",
    [
        (b"", {}, hotpath.InvalidError, "invalid"),
        (b"not an image at all", {}, hotpath.UnsupportedError, "unsupported"),
        (png_header_only(100_000, 100_000), {}, hotpath.TooLargeError, "too_large"),
        (None, {"fit": "squash"}, hotpath.InvalidError, "invalid"),
        (None, {"format": "bmp"}, hotpath.UnsupportedError, "unsupported"),
        (None, {"quality": 101}, hotpath.InvalidError, "invalid"),
    ],
)
def test_errors_are_value_errors_with_codes(jpeg, data, kwargs, exc, code):
    with pytest.raises(exc) as info:
        hotpath.thumbnail(jpeg if data is None else data, 100, **kwargs)
    assert isinstance(info.value, ValueError)
    assert info.value.code == code
    assert info.value.message


def test_truncated_jpeg_is_an_error_not_a_crash(jpeg):
    with pytest.raises(hotpath.HotpathError) as info:
        hotpath.thumbnail(jpeg[: len(jpeg) // 3], 100)
    assert info.value.code in ("unprocessable", "unsupported")


def test_not_bytes_is_type_error():
    with pytest.raises(TypeError):
        hotpath.thumbnail("photo.jpg", 100)  # type: ignore[arg-type]
