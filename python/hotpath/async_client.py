"""AsyncClient: the hotpath HTTP API for asyncio code (FastAPI handlers), on httpx.

>>> async with hotpath.AsyncClient("http://127.0.0.1:8080", api_key) as c:
...     img = await c.upload("photo.jpg")
...     thumb = await c.variant(img.id, "thumb")

The methods, their names, arguments, results and errors are those of
:class:`hotpath.Client` (both build the same requests, in
:mod:`hotpath.client`); here every call is awaited and never blocks the event
loop. Connections are pooled and closed with the client (``async with`` or
:meth:`AsyncClient.aclose`). httpx (Debian's python3-httpx) is imported when
an AsyncClient is made, so ``import hotpath`` needs only the standard library.
"""

from __future__ import annotations

import asyncio
from typing import Any, AsyncIterator, Iterable, List, Optional, Union

from .client import _CHUNK, Batch, Image, ImagePage, Job, Upload, UploadResult, _Call, _Calls, _error, _upload_results, T
from .errors import HotpathError, UnavailableError

__all__ = ["AsyncClient"]


def _httpx() -> Any:
    try:
        import httpx
    except ImportError as e:  # pragma: no cover - depends on the machine
        raise ImportError(
            "hotpath.AsyncClient needs httpx: install it (Debian: apt-get install python3-httpx; "
            "elsewhere: pip install httpx); hotpath.Client needs only the standard library"
        ) from e
    return httpx


class AsyncClient(_Calls):
    """An asyncio client for one hotpath server, authenticated with one API key.

    Args:
        base_url, api_key, timeout, signing_key, retries, max_retry_wait: as for
            :class:`hotpath.Client` (429 and 503 answers are retried after the
            server's Retry-After, up to ``retries`` times, when the body can be
            sent again).
        max_connections: the most connections kept open to the server at once.

    Uploads stream from paths, bytes, binary file objects (read in a
    thread) or async iterables of bytes; downloads can stream too
    (:meth:`iter_original`). One AsyncClient serves many concurrent tasks.
    """

    def __init__(self, base_url: str, api_key: str, *, timeout: float = 60.0, signing_key: Optional[str] = None,
                 retries: int = 3, max_retry_wait: float = 30.0, max_connections: int = 64) -> None:
        super().__init__(base_url, api_key, timeout=timeout, signing_key=signing_key, retries=retries,
                         max_retry_wait=max_retry_wait)
        httpx = _httpx()
        self._transport_errors = (httpx.TransportError,)
        self._http = httpx.AsyncClient(
            timeout=timeout,
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
        )

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the client's pooled connections."""
        await self._http.aclose()

    async def _open(self, call: "_Call[Any]") -> Any:
        """Send call and return the httpx response with its body unread, retrying 429/503."""
        attempt = 0
        while True:
            content = call.body.achunks() if call.body is not None else None
            req = self._http.build_request(call.method, call.url(self.base_url), headers=self._headers(call), content=content)
            try:
                resp = await self._http.send(req, stream=True)
            except self._transport_errors as e:
                raise UnavailableError(f"cannot reach {self.base_url}: {e}") from e
            if resp.status_code < 400:
                return resp
            data = await resp.aread()
            await resp.aclose()
            headers = dict(resp.headers.items())
            wait = self._retry_wait(attempt, resp.status_code, headers, call)
            if wait is None:
                raise _error(resp.status_code, headers, data)
            await asyncio.sleep(wait)
            attempt += 1

    async def _send(self, call: "_Call[T]") -> T:
        resp = await self._open(call)
        try:
            data = await resp.aread()
        except self._transport_errors as e:
            raise UnavailableError(f"cannot read the answer of {self.base_url}: {e}") from e
        finally:
            await resp.aclose()
        return call.parse(resp.status_code, dict(resp.headers.items()), data)

    async def _stream(self, call: "_Call[Any]", chunk_size: int) -> AsyncIterator[bytes]:
        resp = await self._open(call)
        try:
            async for chunk in resp.aiter_bytes(chunk_size):
                yield chunk
        finally:
            await resp.aclose()

    async def upload(self, source: Union[Upload, Any], *, filename: Optional[str] = None, async_: bool = False) -> Union[Image, Job]:
        """Upload one image; see :meth:`hotpath.Client.upload`. source may also be an async iterable of bytes."""
        return await self._send(self._upload(source, filename, async_))

    async def upload_many(self, sources: Iterable[Union[Upload, Any]]) -> List[UploadResult]:
        """Upload several images in one multipart request; see :meth:`hotpath.Client.upload_many`."""
        return await self._send(self._multipart_call("/v1/images", sources, _upload_results))

    async def upload_batch(self, sources: Iterable[Union[Upload, Any]]) -> Batch:
        """Upload many images as a background batch; see :meth:`hotpath.Client.upload_batch`."""
        return await self._send(self._multipart_call("/v1/batches", sources, Batch.from_json))

    async def get(self, image_id: str) -> Image:
        """Return an image's metadata; NotFoundError when it does not exist (for this tenant)."""
        return await self._send(self._get(image_id))

    async def list(self, *, cursor: str = "", limit: Optional[int] = None) -> ImagePage:
        """Return one page of images, newest first."""
        return await self._send(self._list(cursor, limit))

    async def iter_images(self, *, page_size: Optional[int] = None) -> AsyncIterator[Image]:
        """Yield every image of the tenant, newest first, fetching page after page: ``async for img in c.iter_images()``."""
        cursor = ""
        while True:
            page = await self.list(cursor=cursor, limit=page_size)
            for img in page.images:
                yield img
            if not page.next_cursor:
                return
            cursor = page.next_cursor

    async def delete(self, image_id: str) -> None:
        """Delete an image with its original, variants and transforms."""
        await self._send(self._delete(image_id))

    async def original(self, image_id: str) -> bytes:
        """Return the bytes of an image's original."""
        return await self._send(self._bytes(self._original_path(image_id)))

    def iter_original(self, image_id: str, chunk_size: int = _CHUNK) -> AsyncIterator[bytes]:
        """Yield an image's original in chunks: ``async for chunk in c.iter_original(id)``."""
        return self._stream(self._bytes(self._original_path(image_id)), chunk_size)

    async def variant(self, image_id: str, preset: str) -> bytes:
        """Return the bytes of one of an image's preset variants."""
        return await self._send(self._bytes(self._variant_path(image_id, preset)))

    def iter_variant(self, image_id: str, preset: str, chunk_size: int = _CHUNK) -> AsyncIterator[bytes]:
        """Yield one of an image's preset variants in chunks."""
        return self._stream(self._bytes(self._variant_path(image_id, preset)), chunk_size)

    async def transform(self, image_id: str, *, ext: str = "", signing_key: Optional[str] = None, **options: Any) -> bytes:
        """Fetch the bytes of an on-the-fly transform (see :meth:`transform_url`)."""
        return await self._send(self._bytes(self.transform_url(image_id, ext=ext, signing_key=signing_key, **options)))

    async def job(self, job_id: str) -> Job:
        """Return the state of a background job."""
        return await self._send(self._job(job_id))

    async def batch(self, batch_id: str) -> Batch:
        """Return the state of a batch with its jobs."""
        return await self._send(self._batch(batch_id))

    async def health(self) -> bool:
        """Return True when the server answers /healthz."""
        try:
            return await self._send(self._health())
        except HotpathError:
            return False
