"""hotpath.encrypt/decrypt and their files: round trips, failures as HotpathError
subclasses, the GIL released, and interop with the CLI and the service."""

from __future__ import annotations

import subprocess
import threading
import base64

import pytest

import hotpath
from support import Server, hotpath_binary

PACKAGE = 64 << 10


@pytest.fixture(scope="module")
def key() -> str:
    return hotpath.new_key()


@pytest.mark.parametrize("size", [0, 1, PACKAGE - 1, PACKAGE, PACKAGE + 1, 5 * (1 << 20) + 7])
def test_round_trip(key, size):
    data = bytes((i * 7 + size) % 251 for i in range(size))
    sealed = hotpath.encrypt(data, key)
    assert sealed[:8] == b"\x89HPENC\r\n"
    assert len(sealed) == 88 + size + 32 * -(-size // PACKAGE)
    assert hotpath.decrypt(sealed, key) == data
    assert hotpath.decrypt(sealed, base64.b64decode(key)) == data


def test_every_encryption_differs(key):
    assert hotpath.encrypt(b"same", key) != hotpath.encrypt(b"same", key)


def test_failures_are_hotpath_errors(key):
    data = bytes(range(256)) * 1000
    sealed = bytearray(hotpath.encrypt(data, key))
    for offset in (8, 10, 30, 60, 100, 88 + PACKAGE, len(sealed) - 1):
        bad = bytearray(sealed)
        bad[offset] ^= 1
        with pytest.raises(hotpath.IntegrityError) as e:
            hotpath.decrypt(bytes(bad), key)
        assert e.value.code == "integrity" and isinstance(e.value, (hotpath.HotpathError, ValueError))
    with pytest.raises(hotpath.IntegrityError):
        hotpath.decrypt(bytes(sealed[: 88 + PACKAGE + 32]), key)  # cut at a package boundary
    with pytest.raises(hotpath.UnavailableError, match="encrypted under key"):
        hotpath.decrypt(bytes(sealed), hotpath.new_key())
    bad = bytearray(sealed)
    bad[20] ^= 1  # the key id: reads as encrypted under another key
    with pytest.raises(hotpath.UnavailableError):
        hotpath.decrypt(bytes(bad), key)
    with pytest.raises(hotpath.InvalidError):
        hotpath.decrypt(b"plain text, not hotpath's format" * 4, key)
    with pytest.raises(hotpath.InvalidError):
        hotpath.encrypt(b"x", b"short key")
    with pytest.raises(hotpath.InvalidError):
        hotpath.encrypt(b"x", "not base64!")
    with pytest.raises(TypeError):
        hotpath.encrypt("text", key)  # type: ignore[arg-type]


def test_files(key, tmp_path):
    src = tmp_path / "in.bin"
    src.write_bytes(bytes(range(256)) * 20000)
    hotpath.encrypt_file(src, tmp_path / "in.hpe", key)
    hotpath.decrypt_file(tmp_path / "in.hpe", tmp_path / "back.bin", key)
    assert (tmp_path / "back.bin").read_bytes() == src.read_bytes()
    sealed = bytearray((tmp_path / "in.hpe").read_bytes())
    sealed[len(sealed) // 2] ^= 1
    (tmp_path / "bad.hpe").write_bytes(bytes(sealed))
    with pytest.raises(hotpath.IntegrityError):
        hotpath.decrypt_file(tmp_path / "bad.hpe", tmp_path / "out.bin", key)
    assert not (tmp_path / "out.bin").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["back.bin", "bad.hpe", "in.bin", "in.hpe"]
    with pytest.raises(hotpath.NotFoundError):
        hotpath.encrypt_file(tmp_path / "missing", tmp_path / "x", key)


def test_gil_released(key):
    """Another Python thread keeps running while Go encrypts."""
    data = bytes(32 << 20)
    done = threading.Event()
    ticks = 0

    def work():
        for _ in range(2):
            hotpath.encrypt(data, key)
        done.set()

    t = threading.Thread(target=work)
    t.start()
    while not done.is_set():
        ticks += 1
    t.join()
    assert ticks > 1000, f"the main thread ran {ticks} loop iterations while Go encrypted 64 MiB"


def run_cli(*args: str) -> None:
    subprocess.run([str(hotpath_binary()), *args], check=True, capture_output=True, timeout=120)


@pytest.fixture(scope="module")
def encrypted_server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("encrypted")
    master = tmp / "master.key"
    master.write_text(hotpath.new_key() + "\n")
    s = Server(tmp, "--encryption-key-file", str(master))
    s.master = master
    yield s
    s.stop()


def test_python_to_cli_to_service(encrypted_server, jpeg, tmp_path, key):
    """Python encrypts, the CLI decrypts, the (encrypting) service stores and serves it."""
    key_file = tmp_path / "file.key"
    key_file.write_text(key)
    (tmp_path / "photo.hpe").write_bytes(hotpath.encrypt(jpeg, key))
    run_cli("decrypt", str(tmp_path / "photo.hpe"), str(tmp_path / "photo.jpg"), "--key-file", str(key_file))
    client = hotpath.Client(encrypted_server.url, encrypted_server.admin_key)
    img = client.upload(tmp_path / "photo.jpg")
    assert client.original(img.id) == jpeg


def test_service_to_cli_and_python(encrypted_server, jpeg, tmp_path):
    """The service's blob file under its data dir, decrypted with the tenant's exported key by the CLI and by Python."""
    client = hotpath.Client(encrypted_server.url, encrypted_server.admin_key)
    img = client.upload(jpeg, filename="p.jpg")
    blobs = [p for p in (encrypted_server.data / "blobs").rglob("original") if img.id in str(p)]
    assert len(blobs) == 1
    stored = blobs[0].read_bytes()
    assert stored[:8] == b"\x89HPENC\r\n" and jpeg[100:140] not in stored
    tenant = blobs[0].relative_to(encrypted_server.data / "blobs").parts[0]
    out = subprocess.run([str(hotpath_binary()), "keys", "export-tenant", tenant, "--data", str(encrypted_server.data),
                          "--encryption-key-file", str(encrypted_server.master)],
                         capture_output=True, text=True, check=True, timeout=60)
    tenant_key = out.stdout.strip()
    assert hotpath.decrypt(stored, tenant_key) == jpeg
    (tmp_path / "tenant.key").write_text(tenant_key)
    run_cli("decrypt", str(blobs[0]), str(tmp_path / "back.jpg"), "--key-file", str(tmp_path / "tenant.key"))
    assert (tmp_path / "back.jpg").read_bytes() == jpeg
    # And the CLI's encryption read by Python.
    run_cli("encrypt", str(tmp_path / "back.jpg"), str(tmp_path / "again.hpe"), "--key-file", str(tmp_path / "tenant.key"))
    assert hotpath.decrypt((tmp_path / "again.hpe").read_bytes(), tenant_key) == jpeg
