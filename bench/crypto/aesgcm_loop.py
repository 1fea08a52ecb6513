"""The baseline: chunked AES-256-GCM over a file with Python's `cryptography`
package, as a team would write it: read 64 KiB, seal it with a fresh random
nonce, write nonce + ciphertext + tag; decrypt reads it back the same way.
Usage: aesgcm_loop.py encrypt|decrypt IN OUT"""

import os
import sys

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

CHUNK = 64 << 10
KEY = bytes(range(32))


def main() -> None:
    mode, src, dst = sys.argv[1:4]
    gcm = AESGCM(KEY)
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        if mode == "encrypt":
            while chunk := fin.read(CHUNK):
                nonce = os.urandom(12)
                fout.write(nonce + gcm.encrypt(nonce, chunk, None))
        else:
            while sealed := fin.read(12 + CHUNK + 16):
                fout.write(gcm.decrypt(sealed[:12], sealed[12:], None))


main()
