"""Test helpers shared by the package's tests and the FastAPI example's: images and a real `hotpath serve`."""

from __future__ import annotations

import io
import os
from pathlib import Path

PYTHON_DIR = Path(__file__).resolve().parent.parent
REPO = PYTHON_DIR.parent


def make_jpeg(width: int, height: int, quality: int = 85) -> bytes:
    """Return a photo-like JPEG of the given size (gradient plus noise), made with Pillow."""
    from PIL import Image

    grad = Image.linear_gradient("L").resize((width, height))
    noise = Image.effect_noise((width, height), 40).convert("L")
    im = Image.merge("RGB", (grad, noise, grad.transpose(Image.Transpose.FLIP_LEFT_RIGHT)))
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def hotpath_binary() -> Path:
    """Return the hotpath binary (``$HOTPATH_BIN``, else build/hotpath, built with Go when missing)."""
    import subprocess

    env = os.environ.get("HOTPATH_BIN")
    if env:
        return Path(env)
    path = REPO / "build" / "hotpath"
    if not path.is_file():
        subprocess.run(["go", "build", "-o", str(path), "./cmd/hotpath"], cwd=REPO, check=True)
    return path


SIGNING_KEY = "python-tests-signing-key-0123456789"


class Server:
    """A real `hotpath serve` on a free port with its data in a temp dir, signing transforms with SIGNING_KEY."""

    def __init__(self, tmp: Path, *extra: str) -> None:
        import json
        import re
        import subprocess
        import threading
        import time

        self.data = tmp / "data"
        self.proc = subprocess.Popen(
            [str(hotpath_binary()), "serve", "--addr", "127.0.0.1:0", "--data", str(self.data),
             "--signing-keys", SIGNING_KEY, *extra],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )
        self.url = ""
        self.admin_key = ""
        self.log: list = []
        deadline = time.monotonic() + 60
        assert self.proc.stderr is not None
        while not (self.url and self.admin_key):
            line = self.proc.stderr.readline()
            if not line:
                raise RuntimeError("hotpath serve exited early:\n" + "".join(self.log))
            self.log.append(line)
            m = re.match(r"^\s+(\S{20,})\s*$", line)
            if m and not line.lstrip().startswith("{"):
                self.admin_key = m.group(1)
            if '"listening"' in line:
                self.url = json.loads(line).get("url", "")
            if time.monotonic() > deadline:
                raise RuntimeError("hotpath serve did not start:\n" + "".join(self.log))
        # Keep draining stderr so that the server never blocks on a full pipe.
        threading.Thread(target=lambda: [self.log.append(l) for l in self.proc.stderr], daemon=True).start()

    def key(self, scope: str, tenant: str = "default") -> str:
        """Create an API key with `hotpath keys create` on this server's data dir and return its secret."""
        import subprocess

        out = subprocess.run(
            [str(hotpath_binary()), "keys", "create", "--tenant", tenant, "--scope", scope, "--data", str(self.data)],
            capture_output=True, text=True, check=True, timeout=60,
        )
        return out.stdout.strip().split()[-1]

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except Exception:
            self.proc.kill()
