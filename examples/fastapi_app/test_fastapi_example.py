"""Both FastAPI examples through FastAPI's TestClient: in-process hotpath, and storage in a real hotpath serve."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
for p in (HERE, REPO / "python", REPO / "python" / "tests"):
    sys.path.insert(0, str(p))

from fastapi.testclient import TestClient  # noqa: E402
from PIL import Image  # noqa: E402

import app as inprocess  # noqa: E402
import app_service  # noqa: E402
from support import Server, make_jpeg  # noqa: E402


@pytest.fixture(scope="module")
def photo() -> bytes:
    return make_jpeg(1600, 1200)


@pytest.fixture
def local(tmp_path, monkeypatch) -> TestClient:
    monkeypatch.setattr(inprocess, "ROOT", str(tmp_path))
    monkeypatch.setattr(inprocess, "API_KEY", "k")
    return TestClient(inprocess.app)


def test_inprocess_upload_makes_the_baseline_variants(local, photo, tmp_path):
    r = local.post("/images", files={"file": ("p.jpg", photo, "image/jpeg")}, headers={"x-api-key": "k"})
    assert r.status_code == 200, r.text
    body = r.json()
    want = {"thumb": (200, 150, "JPEG"), "medium": (800, 600, "JPEG"), "large": (1600, 1200, "WEBP")}
    for name, (w, h, fmt) in want.items():
        v = body["variants"][name]
        assert (v["width"], v["height"]) == (w, h)
        im = Image.open(tmp_path / v["key"])
        assert (im.width, im.height, im.format) == (w, h, fmt)
    assert (tmp_path / body["id"] / "original").read_bytes() == photo


@pytest.mark.parametrize(
    "data, key, status",
    [(b"not an image", "k", 415), (None, "wrong", 401), (b"", "k", 400)],
)
def test_inprocess_errors(local, photo, data, key, status):
    r = local.post("/images", files={"file": ("p.jpg", photo if data is None else data)}, headers={"x-api-key": key})
    assert r.status_code == status, r.text


@pytest.fixture(scope="module")
def hotpath_server(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("example-serve"))
    yield s
    s.stop()


@pytest.fixture
def service(hotpath_server, monkeypatch):
    monkeypatch.setenv("HOTPATH_URL", hotpath_server.url)
    monkeypatch.setenv("HOTPATH_API_KEY", hotpath_server.admin_key)
    monkeypatch.setattr(app_service, "API_KEY", "k")
    with TestClient(app_service.app) as c:  # runs startup/shutdown: the app's one AsyncClient
        yield c


def test_service_upload_fetch_delete(service, photo):
    assert service.get("/health").json() == {"ok": True, "hotpath": True}
    r = service.post("/images", files={"file": ("p.jpg", photo, "image/jpeg")}, headers={"x-api-key": "k"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["variants"]["thumb"]["width"] == 200
    t = service.get(f"/images/{body['id']}/thumb", headers={"x-api-key": "k"})
    assert t.status_code == 200 and t.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(t.content)).size == (200, 150)
    assert service.delete(f"/images/{body['id']}", headers={"x-api-key": "k"}).status_code == 204
    assert service.get(f"/images/{body['id']}/thumb", headers={"x-api-key": "k"}).status_code == 404


def test_service_passes_hotpath_errors_on(service):
    r = service.post("/images", files={"file": ("x.jpg", b"not an image")}, headers={"x-api-key": "k"})
    assert r.status_code == 415
    assert "format" in r.json()["detail"] or r.json()["detail"]
