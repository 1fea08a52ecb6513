"""hotpath.Client against a real `hotpath serve` started for the session."""

from __future__ import annotations

import io
import subprocess

import pytest
from PIL import Image as PILImage

import hotpath
from support import SIGNING_KEY, hotpath_binary, make_jpeg


@pytest.fixture(scope="module")
def client(server) -> hotpath.Client:
    return hotpath.Client(server.url, server.admin_key)


def size_of(data: bytes):
    return PILImage.open(io.BytesIO(data)).size


def test_upload_bytes_get_variant_delete(client, jpeg):
    img = client.upload(jpeg, filename="a.jpg")
    assert isinstance(img, hotpath.Image)
    assert (img.width, img.height, img.format) == (1200, 800, "jpeg")
    assert {v.name for v in img.variants} >= {"thumb", "medium", "large"}
    assert max(size_of(client.variant(img.id, "thumb"))) == 200
    assert client.original(img.id) == jpeg
    got = client.get(img.id)
    assert got.id == img.id and got.variant("medium").width == 800
    assert client.variant_url(img.id, "thumb") == f"{client.base_url}/v1/images/{img.id}/variants/thumb"
    client.delete(img.id)
    with pytest.raises(hotpath.NotFoundError) as info:
        client.get(img.id)
    assert info.value.status == 404 and info.value.code == "not_found"


def test_upload_path_and_file_object(client, jpeg, tmp_path):
    p = tmp_path / "photo.jpg"
    p.write_bytes(jpeg)
    from_path = client.upload(p)
    assert from_path.filename == "photo.jpg"
    with open(p, "rb") as f:
        from_file = client.upload(f)
    assert from_file.sha256 == from_path.sha256
    assert client.upload(io.BytesIO(jpeg)).width == 1200


def test_upload_many_reports_each_file(client, jpeg):
    results = client.upload_many([jpeg, b"this is not an image", make_jpeg(300, 200)])
    assert [r.ok for r in results] == [True, False, True]
    assert isinstance(results[1].error, hotpath.UnsupportedError)
    assert results[1].status == 415
    assert results[2].image is not None and results[2].image.width == 300


def test_list_pages_through_everything(client, jpeg):
    ids = {client.upload(make_jpeg(64, 48)).id for _ in range(5)}
    page = client.list(limit=2)
    assert len(page.images) == 2 and page.next_cursor
    seen = {i.id for i in client.iter_images(page_size=2)}
    assert ids <= seen


@pytest.mark.parametrize(
    "key, exc, status",
    [("wrong-key", hotpath.UnauthorizedError, 401), ("", hotpath.UnauthorizedError, 401)],
)
def test_bad_credentials(server, key, exc, status):
    with pytest.raises(exc) as info:
        hotpath.Client(server.url, key).list()
    assert info.value.status == status
    assert isinstance(info.value, PermissionError)


def test_read_only_key_cannot_write(server, jpeg):
    reader = hotpath.Client(server.url, server.key("read"))
    reader.list()
    with pytest.raises(hotpath.ForbiddenError) as info:
        reader.upload(jpeg)
    assert info.value.code == "forbidden" and info.value.status == 403


def test_tenants_are_isolated(server, client, jpeg):
    img = client.upload(jpeg)
    other = hotpath.Client(server.url, server.key("write", tenant="other"))
    with pytest.raises(hotpath.NotFoundError):
        other.get(img.id)


def test_errors_of_uploads(client):
    with pytest.raises(hotpath.UnsupportedError) as info:
        client.upload(b"definitely not an image")
    assert info.value.status == 415 and info.value.message


def test_unreachable_server_is_unavailable():
    c = hotpath.Client("http://127.0.0.1:1", "k", timeout=5)
    with pytest.raises(hotpath.UnavailableError):
        c.list()
    assert not c.health()


def test_health(client):
    assert client.health()


@pytest.mark.parametrize(
    "opts, image_id, ext",
    [
        ({"w": 400, "h": 300, "fit": "fill", "g": "smart", "q": 80, "f": "webp"}, "0123456789abcdef0123456789abcdef", ""),
        ({"width": 200}, "0123456789abcdef0123456789abcdef", "jpg"),
        ({"quality": 70, "format": "avif", "height": 10, "gravity": "center"}, "0123456789abcdef0123456789abcdef", ""),
        ({}, "0123456789abcdef0123456789abcdef", "png"),
    ],
)
def test_signed_transform_path_matches_hotpath_sign(opts, image_id, ext):
    key = "a-signing-key-of-32-bytes-length"
    options = hotpath.transform_options(**opts)
    cli = subprocess.run(
        [str(hotpath_binary()), "sign", "--key", key, options, image_id + (f".{ext}" if ext else "")],
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout.strip()
    assert hotpath.sign_transform_path(key, options, image_id, ext) == cli


def test_transform_options_canonical_order():
    assert hotpath.transform_options(f="webp", w=400, fit="fill", h=300) == "w:400,h:300,fit:fill,f:webp"
    assert hotpath.transform_options() == "-"
    assert hotpath.transform_options(bg=(255, 0, 0), anim=True) == "bg:ff0000,anim:1"
    with pytest.raises(hotpath.InvalidError):
        hotpath.transform_options(blur=3)


def wait_for(fn, what: str, seconds: float = 60):
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        got = fn()
        if got:
            return got
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def needs_queue(fn, *args, **kw):
    """Call fn; skip, saying why, when the server was built without a job queue."""
    try:
        return fn(*args, **kw)
    except hotpath.UnavailableError as e:
        if "job queue" in e.message:
            pytest.skip(f"this hotpath serve has no job queue wired yet: {e.message}")
        raise


def test_async_upload_then_job_status(client, jpeg):
    job = needs_queue(client.upload, jpeg, async_=True)
    assert isinstance(job, hotpath.Job) and job.id and job.image_id
    done = wait_for(lambda: (j := client.job(job.id)).state in ("succeeded", "failed") and j, "the job")
    assert done.state == "succeeded", done.raw
    assert max(size_of(client.variant(job.image_id, "thumb"))) == 200


def test_batch_upload_and_status(client, jpeg):
    batch = needs_queue(client.upload_batch, [jpeg, make_jpeg(320, 240), b"not an image"])
    assert batch.id and batch.total == 3
    final = wait_for(lambda: (b := client.batch(batch.id)).done and b, "the batch")
    assert (final.succeeded, final.failed) == (2, 1), final.raw
    assert len(final.jobs) == 3 and [j.state for j in final.jobs].count("succeeded") == 2


def test_missing_job_is_not_found(client):
    with pytest.raises(hotpath.NotFoundError):
        client.job("0123456789abcdef0123456789abcdef")


def test_signed_transform_fetch(server, client, jpeg):
    img = client.upload(jpeg)
    signed = hotpath.Client(server.url, "", signing_key=SIGNING_KEY)  # transform URLs need no API key
    data = signed.transform(img.id, w=300, h=300, fit="fill", f="png")
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and size_of(data) == (300, 300)
    assert size_of(signed.transform(img.id, ext="jpg", w=120)) == (120, 80)
    bad = hotpath.Client(server.url, "", signing_key="another-key-that-is-long-enough")
    with pytest.raises(hotpath.ForbiddenError) as info:
        bad.transform(img.id, w=300)
    assert info.value.status == 403
    with pytest.raises(hotpath.InvalidError):
        hotpath.Client(server.url, "", signing_key="").transform_url(img.id, w=1)
