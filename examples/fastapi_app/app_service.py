"""The seed's FastAPI image service handing images to a `hotpath serve` through hotpath.AsyncClient.

The Python app keeps its own API, authentication and business logic; storage,
scaling, metadata, variant delivery and back-pressure belong to hotpath
serve. The handlers are ``async def`` and await hotpath.AsyncClient, so the
event loop serves other requests while hotpath works; one client (one
connection pool) lives as long as the app. The upload streams from FastAPI's
spooled temp file to hotpath in chunks, so this process never holds an image
whole; a 429/503 from hotpath is retried after its Retry-After.

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


@app.on_event("startup")
async def open_client() -> None:
    """One pooled client for the app's life, for the configured hotpath server."""
    app.state.hotpath = hotpath.AsyncClient(os.environ.get("HOTPATH_URL", "http://127.0.0.1:8080"),
                                            os.environ.get("HOTPATH_API_KEY", ""))


@app.on_event("shutdown")
async def close_client() -> None:
    await app.state.hotpath.aclose()


def client() -> hotpath.AsyncClient:
    return app.state.hotpath


def check_key(x_api_key: str) -> None:
    if API_KEY and x_api_key != API_KEY:
        raise HTTPException(401, "bad api key")


def fail(e: hotpath.HotpathError) -> HTTPException:
    """Pass hotpath's status and message on to this API's caller."""
    return HTTPException(e.status or 502, e.message)


@app.get("/health")
async def health() -> Dict[str, bool]:
    return {"ok": True, "hotpath": await client().health()}


@app.post("/images")
async def upload(file: UploadFile = File(...), x_api_key: str = Header("")) -> Dict[str, Any]:
    check_key(x_api_key)
    try:
        img = await client().upload(file.file, filename=file.filename or "upload")
    except hotpath.HotpathError as e:
        raise fail(e)
    assert isinstance(img, hotpath.Image)
    return {
        "id": img.id,
        "variants": {v.name: {"key": v.url, "width": v.width, "height": v.height, "bytes": v.bytes} for v in img.variants},
    }


@app.get("/images/{image_id}/{preset}")
async def variant(image_id: str, preset: str, x_api_key: str = Header("")) -> Response:
    check_key(x_api_key)
    c = client()
    try:
        img = await c.get(image_id)
        data = await c.variant(image_id, preset)
        fmt = img.variant(preset).format
    except KeyError:
        raise HTTPException(404, f"no variant {preset!r}")
    except hotpath.HotpathError as e:
        raise fail(e)
    return Response(data, media_type=f"image/{fmt}")


@app.delete("/images/{image_id}", status_code=204, response_class=Response)
async def delete(image_id: str, x_api_key: str = Header("")) -> Response:
    check_key(x_api_key)
    try:
        await client().delete(image_id)
    except hotpath.HotpathError as e:
        raise fail(e)
    return Response(status_code=204)
