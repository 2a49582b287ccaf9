"""Tokens encrypted at rest: Fernet (AES-128-CBC with an HMAC) from the cryptography package.

The key comes from ECHOTUNE_SECRET_KEY (a Fernet key: `python -c "from cryptography.fernet import Fernet;
print(Fernet.generate_key().decode())"`) or, when unset, from a key file in the EchoTune home created on first use
readable by its owner only (0600). Whoever holds the key can read the tokens: keep it out of backups of the store.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken


class VaultError(RuntimeError):
    pass


class Vault:
    def __init__(self, key: bytes) -> None:
        try:
            self._fernet = Fernet(key)
        except (ValueError, TypeError):
            raise VaultError("ECHOTUNE_SECRET_KEY is not a Fernet key (32 url-safe base64-encoded bytes). Generate "
                             "one with: python -c \"from cryptography.fernet import Fernet; "
                             "print(Fernet.generate_key().decode())\"") from None

    @classmethod
    def open(cls, home: Path) -> Vault:
        if key := os.environ.get("ECHOTUNE_SECRET_KEY", "").strip():
            return cls(key.encode())
        return cls(_key_file(home / "secrets" / "spotify.key"))

    def seal(self, secret: dict) -> str:
        return self._fernet.encrypt(json.dumps(secret).encode()).decode()

    def open_sealed(self, sealed: str) -> dict:
        try:
            return json.loads(self._fernet.decrypt(sealed.encode()))
        except InvalidToken:
            raise VaultError("The stored Spotify tokens were encrypted with another key (ECHOTUNE_SECRET_KEY or the "
                             "key file changed): connect Spotify again.") from None


def _key_file(path: Path) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        # O_EXCL: two processes starting at once must not each write a key and lock the other's tokens away
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes().strip()
    key = Fernet.generate_key()
    with os.fdopen(handle, "wb") as out:
        out.write(key)
    return key
