"""The seed's FastAPI image service with its hot path moved into hotpath, in-process.

Same API, presets and storage as the baseline (shared/baselines/fastapi_images):
upload an image, scale it into three variants, store the original and the
variants in a local folder, answer with their keys. Only the scaling changed:
``hotpath.atransform`` (libvips: shrink-on-load, one thread per image, the GIL
released) replaces Pillow's decode + ``thumbnail``; it is awaited, running in
hotpath's engine thread pool, so the event loop keeps serving other requests.

Run:  EXAMPLE_API_KEY=k PYTHONPATH=python /usr/bin/python3 -m uvicorn app:app \\
        --app-dir examples/fastapi_app --host 127.0.0.1 --port 8090
"""

from __future__ import annotations

import os
import uuid
from typing import Any, Dict

from fastapi import FastAPI, File, Header, HTTPException, UploadFile

import hotpath

# Same presets as the baseline: longest side, format, quality.
VARIANTS = {"thumb": (200, "jpeg", 80), "medium": (800, "jpeg", 80), "large": (1600, "webp", 80)}
API_KEY = os.environ.get("EXAMPLE_API_KEY", "")
ROOT = os.environ.get("EXAMPLE_DIR", "/tmp/example-images")

app = FastAPI(title="images (hotpath in-process)")


def put(key: str, body: bytes) -> None:
    """Store body under key in the local folder (the baseline's storage)."""
    path = os.path.join(ROOT, key)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(body)


# hotpath's error codes become the statuses the hotpath server gives them.
STATUS = {"invalid": 400, "too_large": 413, "unsupported": 415, "unprocessable": 422}


@app.get("/health")
def health() -> Dict[str, bool]:
    return {"ok": True}


# An async endpoint awaits hotpath's engines: they run in a thread pool of one
# thread per core with the GIL released, so concurrent uploads scale across
# cores while the loop stays free.
@app.post("/images")
async def upload(file: UploadFile = File(...), x_api_key: str = Header("")) -> Dict[str, Any]:
    if API_KEY and x_api_key != API_KEY:
        raise HTTPException(401, "bad api key")
    raw = await file.read()
    image_id = uuid.uuid4().hex
    out: Dict[str, Any] = {"id": image_id, "variants": {}}
    renditions = {}
    for name, (side, fmt, quality) in VARIANTS.items():
        try:
            renditions[name] = await hotpath.atransform(raw, side, side, fit="fit", format=fmt, quality=quality)
        except hotpath.HotpathError as e:
            raise HTTPException(STATUS.get(e.code, 500), e.message)
    put(f"{image_id}/original", raw)
    for name, r in renditions.items():
        key = f"{image_id}/{name}.{r.format}"
        put(key, r.data)
        out["variants"][name] = {"key": key, "width": r.width, "height": r.height, "bytes": len(r.data)}
    return out
