"""Clients for the hotpath HTTP API: Client (blocking, standard library only) and AsyncClient (asyncio, httpx).

>>> c = Client("http://127.0.0.1:8080", api_key)
>>> img = c.upload("photo.jpg")
>>> thumb = c.variant(img.id, "thumb")          # bytes
>>> url = c.variant_url(img.id, "thumb")        # for an <img> tag

Errors from the server (``{"error": {"code", "message"}}``) raise the
exception of their code (see :mod:`hotpath.errors`) with the HTTP status in
``.status``; a server that cannot be reached raises
:class:`~hotpath.errors.UnavailableError`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import mimetypes
import os
import time
import uuid
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, BinaryIO, Callable, Dict, Generic, Iterable, Iterator, List, Optional, Sequence, Tuple, TypeVar, Union

from .errors import BusyError, HotpathError, InvalidError, UnavailableError, error_for

__all__ = [
    "Client",
    "Image",
    "Variant",
    "ImagePage",
    "UploadResult",
    "Job",
    "Batch",
    "sign_transform_path",
    "transform_options",
]

#: What upload() takes: a path, the bytes of an image, or a binary file object.
#: AsyncClient also takes an async iterable of bytes (sent once: not retried).
Upload = Union[str, "os.PathLike[str]", bytes, bytearray, memoryview, BinaryIO]

_CHUNK = 1 << 16


@dataclass(frozen=True)
class Variant:
    """One stored rendition of an image: a preset or a transform."""

    name: str
    format: str
    width: int
    height: int
    bytes: int
    url: str

    @classmethod
    def from_json(cls, d: Dict[str, Any]) -> "Variant":
        """Build a Variant from the API's JSON object."""
        return cls(d.get("name", ""), d.get("format", ""), d.get("width", 0), d.get("height", 0), d.get("bytes", 0), d.get("url", ""))


@dataclass(frozen=True)
class Image:
    """An image's metadata as the API returns it; ``raw`` keeps the whole JSON object."""

    id: str
    format: str
    width: int
    height: int
    bytes: int
    status: str
    url: str
    original_url: str
    variants: List[Variant]
    filename: str = ""
    sha256: str = ""
    created_at: str = ""
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, d: Dict[str, Any]) -> "Image":
        """Build an Image from the API's JSON object."""
        return cls(
            id=d["id"],
            format=d.get("format", ""),
            width=d.get("width", 0),
            height=d.get("height", 0),
            bytes=d.get("bytes", 0),
            status=d.get("status", ""),
            url=d.get("url", ""),
            original_url=d.get("original_url", ""),
            variants=[Variant.from_json(v) for v in d.get("variants") or []],
            filename=d.get("filename", ""),
            sha256=d.get("sha256", ""),
            created_at=d.get("created_at", ""),
            raw=d,
        )

    def variant(self, name: str) -> Variant:
        """Return the variant called name.

        Raises:
            KeyError: the image has no such variant.
        """
        for v in self.variants:
            if v.name == name:
                return v
        raise KeyError(name)


@dataclass(frozen=True)
class ImagePage:
    """One page of images, newest first; pass ``next_cursor`` to get the next page ("" at the end)."""

    images: List[Image]
    next_cursor: str


@dataclass(frozen=True)
class UploadResult:
    """The outcome of one file of a batch upload: ``image`` on success, ``error`` otherwise."""

    filename: str
    status: int
    image: Optional[Image]
    error: Optional[HotpathError]

    @property
    def ok(self) -> bool:
        """True when this file was stored."""
        return self.error is None


@dataclass(frozen=True)
class Job:
    """A background job (an async upload's variant generation); ``raw`` keeps the JSON."""

    id: str
    state: str
    kind: str = ""
    image_id: str = ""
    batch_id: str = ""
    filename: str = ""
    attempts: int = 0
    error: str = ""
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, d: Dict[str, Any]) -> "Job":
        """Build a Job from the API's JSON object (``{"job": {...}}`` or the job itself)."""
        d = d.get("job", d)
        return cls(
            id=d.get("id", ""),
            state=d.get("state", ""),
            kind=d.get("kind", ""),
            image_id=d.get("image_id", ""),
            batch_id=d.get("batch_id", ""),
            filename=d.get("filename", ""),
            attempts=d.get("attempts", 0),
            error=d.get("error", ""),
            raw=d,
        )


@dataclass(frozen=True)
class Batch:
    """A batch of uploaded images processed as jobs, with its jobs' states counted."""

    id: str
    total: int
    queued: int
    running: int
    succeeded: int
    failed: int
    jobs: List[Job]
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def done(self) -> bool:
        """True when every job has succeeded or failed."""
        return self.succeeded + self.failed >= self.total

    @classmethod
    def from_json(cls, d: Dict[str, Any]) -> "Batch":
        """Build a Batch from the API's JSON object: the batch's counts and ``files``, one job per file."""
        b = d.get("batch", d)
        return cls(
            id=b.get("id", ""),
            total=b.get("total", 0),
            queued=b.get("queued", 0),
            running=b.get("running", 0),
            succeeded=b.get("succeeded", 0),
            failed=b.get("failed", 0),
            jobs=[Job.from_json(j) for j in d.get("files") or d.get("jobs") or []],
            raw=d,
        )


# Canonical order and names of transform options, as the server writes them
# (transform.go, TransformSpec.String); the signature covers this exact text.
_TRANSFORM_KEYS: List[Tuple[str, Tuple[str, ...]]] = [
    ("preset", ("p",)),
    ("w", ("width",)),
    ("h", ("height",)),
    ("dpr", ()),
    ("fit", ("m", "mode")),
    ("g", ("gravity",)),
    ("q", ("quality",)),
    ("f", ("format",)),
    ("bg", ("background",)),
    ("anim", ("animated",)),
    ("meta", ("metadata",)),
]


def _option_value(name: str, v: Any) -> str:
    if isinstance(v, bool):
        return "1" if v else "0"
    if name == "dpr":
        s = repr(round(float(v), 2))
        return s[:-2] if s.endswith(".0") else s
    if name == "bg" and not isinstance(v, str):
        return bytes(int(c) for c in v).hex()
    if name == "g" and v == "center":
        return "centre"
    return str(v)


def transform_options(**options: Any) -> str:
    """Write transform options in the server's canonical form, e.g. ``"w:400,h:300,fit:fill,f:webp"``.

    Keyword names are the URL names or their long aliases: preset/p, w/width,
    h/height, dpr, fit, g/gravity, q/quality, f/format, bg/background (hex
    string or RGB(A) sequence), anim/animated, meta/metadata. None values are
    left out; no option gives ``"-"``.

    Raises:
        InvalidError: an unknown option name.
    """
    canon: Dict[str, Any] = {}
    for key, value in options.items():
        for name, aliases in _TRANSFORM_KEYS:
            if key == name or key in aliases:
                break
        else:
            raise InvalidError(f"unknown transform option {key!r}")
        if value is not None:
            canon[name] = value
    parts = [f"{name}:{_option_value(name, canon[name])}" for name, _ in _TRANSFORM_KEYS if name in canon]
    return ",".join(parts) or "-"


def sign_transform_path(key: Union[str, bytes], options: str, image_id: str, ext: str = "") -> str:
    """Return the signed transform path ``/t/{signature}/{options}/{image_id}[.ext]``.

    The signature is the unpadded base64url HMAC-SHA256, under key, of
    ``/{options}/{image_id}[.ext]`` — exactly what ``hotpath sign`` prints and
    the server verifies. options must already be canonical (use
    :func:`transform_options`); the server refuses a path whose text differs.
    ext ("jpg", "png", "webp", "avif", or "" for none) sets the format.
    """
    if ext == "jpeg":
        ext = "jpg"
    part = f"/{options}/{image_id}" + (f".{ext}" if ext else "")
    k = key.encode() if isinstance(key, str) else key
    sig = base64.urlsafe_b64encode(hmac.new(k, part.encode(), hashlib.sha256).digest()).rstrip(b"=").decode()
    return f"/t/{sig}{part}"


class _Body:
    """A request body that can be sent more than once (a retry re-reads it) when ``replayable``.

    ``chunks()`` yields it for the blocking client; ``achunks()`` for the
    asyncio client, reading files in a thread so that the event loop never
    waits on a disk.
    """

    def __init__(self, name: str, open_sync: Optional[Callable[[], Iterator[bytes]]],
                 open_async: Optional[Callable[[], AsyncIterator[bytes]]] = None, replayable: bool = True) -> None:
        self.name = name
        self._open_sync = open_sync
        self._open_async = open_async
        self.replayable = replayable

    def chunks(self) -> Iterator[bytes]:
        if self._open_sync is None:
            raise TypeError("an async iterable can only be uploaded with AsyncClient")
        return self._open_sync()

    async def achunks(self) -> AsyncIterator[bytes]:
        if self._open_async is not None:
            async for chunk in self._open_async():
                yield chunk
            return
        import asyncio

        it = self.chunks()
        while True:
            chunk = await asyncio.get_running_loop().run_in_executor(None, next, it, None)
            if chunk is None:
                return
            yield chunk

    @staticmethod
    def of(item: Any, filename: Optional[str]) -> "_Body":
        """Return the body of one upload source: bytes, a path, a binary file object or an async iterable of bytes."""
        if isinstance(item, (bytes, bytearray, memoryview)):
            data = bytes(item)
            return _Body(filename or "upload", lambda: iter([data]))
        if isinstance(item, (str, os.PathLike)):
            path = os.fspath(item)

            def read_path() -> Iterator[bytes]:
                with open(path, "rb") as f:
                    while chunk := f.read(_CHUNK):
                        yield chunk

            with open(path, "rb"):  # fail now, not mid-request, for a missing file
                pass
            return _Body(filename or os.path.basename(path), read_path)
        if hasattr(item, "read"):
            fobj = item
            start = fobj.tell() if _seekable(fobj) else None

            def read_file() -> Iterator[bytes]:
                if start is not None:
                    fobj.seek(start)
                while chunk := fobj.read(_CHUNK):
                    yield chunk

            name = filename or os.path.basename(str(getattr(item, "name", "") or "upload"))
            return _Body(name, read_file, replayable=start is not None)
        if hasattr(item, "__aiter__"):
            return _Body(filename or "upload", None, lambda: item.__aiter__(), replayable=False)
        raise TypeError(f"upload wants a path, bytes, a binary file object or an async iterable of bytes, got {type(item).__name__}")

    @staticmethod
    def multipart(parts: Sequence["_Body"], boundary: str) -> "_Body":
        """Return one multipart/form-data body streaming parts one after another, each as a field "file"."""

        def head(part: "_Body") -> bytes:
            quoted = part.name.replace("\\", "\\\\").replace('"', '\\"').replace("\r", "").replace("\n", "")
            ctype = mimetypes.guess_type(part.name)[0] or "application/octet-stream"
            return (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{quoted}\"\r\n"
                    f"Content-Type: {ctype}\r\n\r\n").encode()

        end = f"--{boundary}--\r\n".encode()

        def sync() -> Iterator[bytes]:
            for part in parts:
                yield head(part)
                yield from part.chunks()
                yield b"\r\n"
            yield end

        async def asynchronous() -> AsyncIterator[bytes]:
            for part in parts:
                yield head(part)
                async for chunk in part.achunks():
                    yield chunk
                yield b"\r\n"
            yield end

        sync_ok = all(p._open_sync is not None for p in parts)
        return _Body("", sync if sync_ok else None, asynchronous, replayable=all(p.replayable for p in parts))


def _seekable(f: Any) -> bool:
    try:
        return bool(f.seekable())
    except (AttributeError, OSError, ValueError):
        return False


T = TypeVar("T")


@dataclass
class _Call(Generic[T]):
    """One API request, described without sending it, and how its answer becomes a result.

    Client and AsyncClient build the same calls and differ only in how they
    send them, so the API's paths, parameters and answers live in one place.
    """

    method: str
    path: str
    parse: Callable[[int, Dict[str, str], bytes], T]
    query: Optional[Dict[str, Any]] = None
    body: Optional[_Body] = None
    headers: Dict[str, str] = field(default_factory=dict)

    def url(self, base: str) -> str:
        url = base + self.path if not self.path.startswith(("http://", "https://")) else self.path
        q = {k: v for k, v in (self.query or {}).items() if v is not None and v != ""}
        return url + ("?" + urllib.parse.urlencode(q) if q else "")


def _json_of(parse: Callable[[Any], T]) -> Callable[[int, Dict[str, str], bytes], T]:
    return lambda status, headers, body: parse(json.loads(body) if body else None)


def _raw(status: int, headers: Dict[str, str], body: bytes) -> bytes:
    return body


def _nothing(status: int, headers: Dict[str, str], body: bytes) -> None:
    return None


def _upload_results(doc: Dict[str, Any]) -> List[UploadResult]:
    results = []
    for r in doc.get("results", []):
        err = None
        if r.get("error"):
            err = error_for(r["error"].get("code", "internal"), r["error"].get("message", ""), r.get("status"))
        img = Image.from_json(r["image"]) if r.get("image") else None
        results.append(UploadResult(r.get("filename", ""), r.get("status", 0), img, err))
    return results


def _error(status: int, headers: Dict[str, str], body: bytes) -> HotpathError:
    """Return the exception for an HTTP error answer (the JSON error body, or the status when there is none)."""
    code, message = "", ""
    try:
        detail = json.loads(body)["error"]
        code, message = detail.get("code", ""), detail.get("message", "")
    except (ValueError, KeyError, TypeError):
        pass
    if not code:
        code = {400: "invalid", 401: "unauthorized", 403: "forbidden", 404: "not_found", 409: "conflict",
                413: "too_large", 415: "unsupported", 422: "unprocessable", 429: "busy", 503: "unavailable"}.get(status, "internal")
        message = body[:200].decode("utf-8", "replace").strip() or f"HTTP {status}"
    err = error_for(code, message, status)
    if isinstance(err, (BusyError, UnavailableError)):
        err.retry_after = _retry_after(headers)
    return err


def _retry_after(headers: Dict[str, str]) -> Optional[float]:
    ra = {k.lower(): v for k, v in headers.items()}.get("retry-after")
    try:
        return max(0.0, float(ra)) if ra else None
    except ValueError:
        return None


class _Calls:
    """What Client and AsyncClient share: configuration, the calls of the API, URLs and the retry policy."""

    def __init__(self, base_url: str, api_key: str, *, timeout: float = 60.0, signing_key: Optional[str] = None,
                 retries: int = 3, max_retry_wait: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout
        self.signing_key = signing_key if signing_key is not None else os.environ.get("HOTPATH_SIGNING_KEY")
        self.retries = retries
        self.max_retry_wait = max_retry_wait

    def _headers(self, call: "_Call[Any]") -> Dict[str, str]:
        h = {"Authorization": f"Bearer {self.api_key}", "Accept": "application/json"}
        h.update(call.headers)
        return h

    def _retry_wait(self, attempt: int, status: int, headers: Dict[str, str], call: "_Call[Any]") -> Optional[float]:
        """Seconds to wait before trying call again after an answer of status, or None to give up.

        429 (busy) and 503 (a backend down) are worth another try: after the
        server's Retry-After, else after a doubling backoff, both capped at
        max_retry_wait; a body that cannot be read twice is never resent.
        """
        if status not in (429, 503) or attempt >= self.retries:
            return None
        if call.body is not None and not call.body.replayable:
            return None
        wait = _retry_after(headers)
        if wait is None:
            wait = 0.5 * (2 ** attempt)
        return min(wait, self.max_retry_wait)

    def url(self, path: str) -> str:
        """Return the absolute URL of a server path such as ``/v1/images``."""
        if path.startswith(("http://", "https://")):
            return path
        return self.base_url + path

    # -- the API's calls -----------------------------------------------------

    def _upload(self, source: Any, filename: Optional[str], async_: bool) -> "_Call[Union[Image, Job]]":
        body = _Body.of(source, filename)
        parse: Callable[[Any], Union[Image, Job]] = Job.from_json if async_ else Image.from_json
        return _Call("POST", "/v1/images", _json_of(parse), query={"filename": body.name, "async": "true" if async_ else None},
                     body=body, headers={"Content-Type": "application/octet-stream"})

    def _multipart_call(self, path: str, sources: Iterable[Any], parse: Callable[[Any], T]) -> "_Call[T]":
        parts = [_Body.of(s, None) for s in sources]
        if not parts:
            raise InvalidError("an upload of several files needs at least one file")
        boundary = "hotpath-" + uuid.uuid4().hex
        return _Call("POST", path, _json_of(parse), body=_Body.multipart(parts, boundary),
                     headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})

    def _get(self, image_id: str) -> "_Call[Image]":
        return _Call("GET", f"/v1/images/{_seg(image_id)}", _json_of(Image.from_json))

    def _list(self, cursor: str, limit: Optional[int]) -> "_Call[ImagePage]":
        def page(doc: Dict[str, Any]) -> ImagePage:
            return ImagePage([Image.from_json(i) for i in doc.get("images") or []], doc.get("next_cursor", ""))

        return _Call("GET", "/v1/images", _json_of(page), query={"cursor": cursor, "limit": limit})

    def _delete(self, image_id: str) -> "_Call[None]":
        return _Call("DELETE", f"/v1/images/{_seg(image_id)}", _nothing)

    def _bytes(self, path: str) -> "_Call[bytes]":
        return _Call("GET", path, _raw, headers={"Accept": "*/*"})

    def _original_path(self, image_id: str) -> str:
        return f"/v1/images/{_seg(image_id)}/original"

    def _variant_path(self, image_id: str, preset: str) -> str:
        return f"/v1/images/{_seg(image_id)}/variants/{_seg(preset)}"

    def _job(self, job_id: str) -> "_Call[Job]":
        return _Call("GET", f"/v1/jobs/{_seg(job_id)}", _json_of(Job.from_json))

    def _batch(self, batch_id: str) -> "_Call[Batch]":
        return _Call("GET", f"/v1/batches/{_seg(batch_id)}", _json_of(Batch.from_json))

    def _health(self) -> "_Call[bool]":
        return _Call("GET", "/healthz", lambda status, headers, body: status == 200)

    def variant_url(self, image_id: str, preset: str) -> str:
        """Return the absolute URL of a preset variant (it needs the API key to fetch)."""
        return self.url(self._variant_path(image_id, preset))

    def transform_url(self, image_id: str, *, ext: str = "", signing_key: Optional[str] = None, **options: Any) -> str:
        """Return the absolute signed URL of an on-the-fly transform, e.g. ``transform_url(id, w=400, fit="fill", f="webp")``.

        Transform URLs need no API key: the signature authorises them. The
        key is ``signing_key``, else the client's ``signing_key``.

        Raises:
            InvalidError: no signing key, or an unknown option.
        """
        key = signing_key or self.signing_key
        if not key:
            raise InvalidError("transform_url needs the server's signing key (signing_key= or $HOTPATH_SIGNING_KEY)")
        return self.url(sign_transform_path(key, transform_options(**options), image_id, ext))


class Client(_Calls):
    """A blocking client for one hotpath server, authenticated with one API key (standard library only).

    Args:
        base_url: the server's origin, e.g. ``"http://127.0.0.1:8080"``.
        api_key: a key from ``hotpath keys create`` (sent as a Bearer token).
        timeout: seconds to wait for each request.
        signing_key: the server's transform signing key, for
            :meth:`transform_url`; defaults to ``$HOTPATH_SIGNING_KEY``.
        retries: how many times a request answered 429 (busy) or 503
            (a backend down) is sent again, after the server's Retry-After.
        max_retry_wait: the longest wait before a retry, in seconds.

    A Client holds no connection state and may be shared between threads.
    In ``async def`` code use :class:`~hotpath.AsyncClient`, which has the
    same methods and does not block the event loop.
    """

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        """Release the client's resources (it holds none; here for symmetry with AsyncClient)."""

    def _open(self, call: "_Call[Any]") -> Any:
        """Send call and return the open response, retrying 429/503; raise the error of any other failure."""
        attempt = 0
        while True:
            body = call.body.chunks() if call.body is not None else None
            req = urllib.request.Request(call.url(self.base_url), data=body, method=call.method)  # type: ignore[arg-type]
            for k, v in self._headers(call).items():
                req.add_header(k, v)
            try:
                return urllib.request.urlopen(req, timeout=self.timeout)
            except urllib.error.HTTPError as e:
                headers, data = dict(e.headers.items()), e.read()
                wait = self._retry_wait(attempt, e.code, headers, call)
                if wait is None:
                    raise _error(e.code, headers, data) from None
            except (urllib.error.URLError, ConnectionError, TimeoutError) as e:
                reason = getattr(e, "reason", e)
                raise UnavailableError(f"cannot reach {self.base_url}: {reason}") from e
            time.sleep(wait)
            attempt += 1

    def _send(self, call: "_Call[T]") -> T:
        with self._open(call) as resp:
            return call.parse(resp.status, dict(resp.headers.items()), resp.read())

    def _stream(self, call: "_Call[Any]", chunk_size: int) -> Iterator[bytes]:
        with self._open(call) as resp:
            while chunk := resp.read(chunk_size):
                yield chunk

    def upload(self, source: Upload, *, filename: Optional[str] = None, async_: bool = False) -> Union[Image, Job]:
        """Upload one image and return its metadata with variant URLs.

        Args:
            source: a file path, the image's bytes, or a binary file object
                (read in chunks, never whole into memory).
            filename: the name to record (default: the path's base name).
            async_: store the original now and make the variants in a
                background job; returns the :class:`Job` instead.

        Raises:
            TooLargeError, UnsupportedError, UnprocessableError: the image was refused.
            BusyError: the server's queue stayed full through every retry.
        """
        return self._send(self._upload(source, filename, async_))

    def upload_many(self, sources: Iterable[Upload]) -> List[UploadResult]:
        """Upload several images in one multipart request; one result per file, in order.

        A file the server refuses gives a result with ``error`` set and does
        not fail the others. The files stream one after another; none is
        held whole in memory.

        Raises:
            HotpathError: when the request as a whole fails (e.g. every file
                failed for the same reason, bad credentials, server busy).
        """
        return self._send(self._multipart_call("/v1/images", sources, _upload_results))

    def upload_batch(self, sources: Iterable[Upload]) -> Batch:
        """Upload many images as a background batch (``POST /v1/batches``); poll :meth:`batch`."""
        return self._send(self._multipart_call("/v1/batches", sources, Batch.from_json))

    def get(self, image_id: str) -> Image:
        """Return an image's metadata. Raises NotFoundError when it does not exist (for this tenant)."""
        return self._send(self._get(image_id))

    def list(self, *, cursor: str = "", limit: Optional[int] = None) -> ImagePage:
        """Return one page of images, newest first."""
        return self._send(self._list(cursor, limit))

    def iter_images(self, *, page_size: Optional[int] = None) -> Iterator[Image]:
        """Yield every image of the tenant, newest first, page by page."""
        cursor = ""
        while True:
            page = self.list(cursor=cursor, limit=page_size)
            yield from page.images
            if not page.next_cursor:
                return
            cursor = page.next_cursor

    def delete(self, image_id: str) -> None:
        """Delete an image with its original, variants and transforms."""
        self._send(self._delete(image_id))

    def original(self, image_id: str) -> bytes:
        """Return the bytes of an image's original."""
        return self._send(self._bytes(self._original_path(image_id)))

    def iter_original(self, image_id: str, chunk_size: int = _CHUNK) -> Iterator[bytes]:
        """Yield an image's original in chunks, never holding it whole."""
        return self._stream(self._bytes(self._original_path(image_id)), chunk_size)

    def variant(self, image_id: str, preset: str) -> bytes:
        """Return the bytes of one of an image's preset variants."""
        return self._send(self._bytes(self._variant_path(image_id, preset)))

    def iter_variant(self, image_id: str, preset: str, chunk_size: int = _CHUNK) -> Iterator[bytes]:
        """Yield one of an image's preset variants in chunks."""
        return self._stream(self._bytes(self._variant_path(image_id, preset)), chunk_size)

    def transform(self, image_id: str, *, ext: str = "", signing_key: Optional[str] = None, **options: Any) -> bytes:
        """Fetch the bytes of an on-the-fly transform (see :meth:`transform_url`)."""
        return self._send(self._bytes(self.transform_url(image_id, ext=ext, signing_key=signing_key, **options)))

    def job(self, job_id: str) -> Job:
        """Return the state of a background job."""
        return self._send(self._job(job_id))

    def batch(self, batch_id: str) -> Batch:
        """Return the state of a batch with its jobs."""
        return self._send(self._batch(batch_id))

    def health(self) -> bool:
        """Return True when the server answers /healthz."""
        try:
            return self._send(self._health())
        except HotpathError:
            return False


def _seg(s: str) -> str:
    """Quote s as one path segment."""
    return urllib.parse.quote(s, safe="")
