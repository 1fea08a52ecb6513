"""Encryption with hotpath's Go engine, in-process.

The format is the one ``hotpath encrypt`` writes and the service stores blobs
in (docs/encryption.md): an 88-byte header carrying a random data key sealed
by your key, then AES-256-GCM packages of 64 KiB (DARE 2.0, minio/sio). Any
modified or missing byte fails with :class:`~hotpath.IntegrityError`; no
unauthenticated byte is ever returned. The packages are sealed on every core
and the GIL is released meanwhile.

A key is 32 random bytes, given as ``bytes`` or as the base64 text a key file
holds (``hotpath keys encryption-key`` makes one; :func:`new_key` too).
"""

from __future__ import annotations

import base64
import binascii
import ctypes
import os
import secrets
from typing import Optional, Union

from . import _lib
from .errors import InvalidError

__all__ = ["encrypt", "decrypt", "encrypt_file", "decrypt_file", "new_key", "read_key_file", "Key"]

Key = Union[bytes, bytearray, memoryview, str]

KEY_SIZE = 32


def new_key() -> str:
    """Return a new random key as base64 text, the form key files hold."""
    return base64.b64encode(secrets.token_bytes(KEY_SIZE)).decode("ascii")


def read_key_file(path: "Union[str, os.PathLike[str]]") -> bytes:
    """Return the key in a key file (the first, when it lists several)."""
    with open(path, encoding="ascii") as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                return _key_bytes(line)
    raise InvalidError(f"key file {os.fspath(path)} holds no key")


def _key_bytes(key: Key) -> bytes:
    """Return key as its 32 raw bytes."""
    if isinstance(key, str):
        try:
            raw = base64.b64decode(key.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise InvalidError("a text key is 32 bytes in base64 (44 characters)") from None
    elif isinstance(key, (bytes, bytearray, memoryview)):
        raw = bytes(key)
    else:
        raise TypeError(f"a key is bytes or base64 str, got {type(key).__name__}")
    if len(raw) != KEY_SIZE:
        raise InvalidError(f"a key is {KEY_SIZE} bytes, not {len(raw)}")
    return raw


def _crypt(name: str, data: bytes, key: Key, cancel: Optional[_lib.CancelToken]) -> bytes:
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"data must be bytes, got {type(data).__name__}")
    buf = data if isinstance(data, bytes) else bytes(data)
    k = _key_bytes(key)
    fn = getattr(_lib.lib(), name)

    def call(token: int) -> bytes:
        out = ctypes.c_void_p()
        n = ctypes.c_int64()
        err = _lib.Error()
        rc = fn(buf, len(buf), k, len(k), token, ctypes.byref(out), ctypes.byref(n), ctypes.byref(err))
        _lib.check(rc, err)
        return _lib.take_bytes(out.value, n.value)

    if cancel is None and len(buf) < (64 << 20):
        return call(0)
    return _lib.cancellable(call, cancel)


def encrypt(data: bytes, key: Key, *, cancel: Optional[_lib.CancelToken] = None) -> bytes:
    """Encrypt data under key and return hotpath's encrypted format.

    Raises:
        InvalidError: the key is not 32 bytes (or their base64).
    """
    return _crypt("hotpath_encrypt", data, key, cancel)


def decrypt(data: bytes, key: Key, *, cancel: Optional[_lib.CancelToken] = None) -> bytes:
    """Decrypt what :func:`encrypt`, ``hotpath encrypt`` or the service wrote under key.

    Raises:
        IntegrityError: a byte was modified or the data cut short.
        UnavailableError: the data was encrypted under another key.
        InvalidError: data is not in hotpath's format, or the key is malformed.
    """
    return _crypt("hotpath_decrypt", data, key, cancel)


def _crypt_file(name: str, src: "Union[str, os.PathLike[str]]", dst: "Union[str, os.PathLike[str]]", key: Key,
                cancel: Optional[_lib.CancelToken]) -> None:
    k = _key_bytes(key)
    fn = getattr(_lib.lib(), name)
    csrc, cdst = os.fsencode(src), os.fsencode(dst)

    def call(token: int) -> None:
        err = _lib.Error()
        _lib.check(fn(csrc, cdst, k, len(k), token, ctypes.byref(err)), err)

    _lib.cancellable(call, cancel)


def encrypt_file(src: "Union[str, os.PathLike[str]]", dst: "Union[str, os.PathLike[str]]", key: Key, *,
                 cancel: Optional[_lib.CancelToken] = None) -> None:
    """Encrypt the file src into dst (renamed into place only when complete).

    Raises:
        NotFoundError: src does not exist.
        InvalidError: the key is malformed.
    """
    _crypt_file("hotpath_encrypt_file", src, dst, key, cancel)


def decrypt_file(src: "Union[str, os.PathLike[str]]", dst: "Union[str, os.PathLike[str]]", key: Key, *,
                 cancel: Optional[_lib.CancelToken] = None) -> None:
    """Decrypt the file src into dst; on any failure no dst is written.

    Raises:
        IntegrityError, UnavailableError, InvalidError, NotFoundError: as :func:`decrypt`.
    """
    _crypt_file("hotpath_decrypt_file", src, dst, key, cancel)
