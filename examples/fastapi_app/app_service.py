"""The seed's FastAPI image service handing images to a `hotpath serve` through hotpath.Client.

The Python app keeps its own API, authentication and business logic; storage,
scaling, metadata, variant delivery and back-pressure belong to hotpath
serve. The upload streams from FastAPI's spooled temp file to hotpath in
chunks, so this process never holds an image whole.

Run:  HOTPATH_URL=http://127.0.0.1:8080 HOTPATH_API_KEY=... EXAMPLE_API_KEY=k PYTHONPATH=python \\
        /usr/bin/python3 -m uvicorn app_service:app --app-dir examples/fastapi_app --port 8091
"""

from __future__ import annotations

import os
from typing import Any, Dict

from fastapi import FastAPI, File, Header, HTTPException, UploadFile
from fastapi.responses import Response

import hotpath

API_KEY = os.environ.get("EXAMPLE_API_KEY", "")

app = FastAPI(title="images (storage in hotpath serve)")


def client() -> hotpath.Client:
    """The client for the configured hotpath server (read at call time, for tests)."""
    return hotpath.Client(os.environ.get("HOTPATH_URL", "http://127.0.0.1:8080"), os.environ.get("HOTPATH_API_KEY", ""))


def check_key(x_api_key: str) -> None:
    if API_KEY and x_api_key != API_KEY:
        raise HTTPException(401, "bad api key")


def fail(e: hotpath.HotpathError) -> HTTPException:
    """Pass hotpath's status and message on to this API's caller."""
    return HTTPException(e.status or 502, e.message)


@app.get("/health")
def health() -> Dict[str, bool]:
    return {"ok": True, "hotpath": client().health()}


@app.post("/images")
def upload(file: UploadFile = File(...), x_api_key: str = Header("")) -> Dict[str, Any]:
    check_key(x_api_key)
    try:
        img = client().upload(file.file, filename=file.filename or "upload")
    except hotpath.HotpathError as e:
        raise fail(e)
    assert isinstance(img, hotpath.Image)
    return {
        "id": img.id,
        "variants": {v.name: {"key": v.url, "width": v.width, "height": v.height, "bytes": v.bytes} for v in img.variants},
    }


@app.get("/images/{image_id}/{preset}")
def variant(image_id: str, preset: str, x_api_key: str = Header("")) -> Response:
    check_key(x_api_key)
    c = client()
    try:
        img = c.get(image_id)
        data = c.variant(image_id, preset)
        fmt = img.variant(preset).format
    except KeyError:
        raise HTTPException(404, f"no variant {preset!r}")
    except hotpath.HotpathError as e:
        raise fail(e)
    return Response(data, media_type=f"image/{fmt}")


@app.delete("/images/{image_id}", status_code=204, response_class=Response)
def delete(image_id: str, x_api_key: str = Header("")) -> Response:
    check_key(x_api_key)
    try:
        client().delete(image_id)
    except hotpath.HotpathError as e:
        raise fail(e)
    return Response(status_code=204)
