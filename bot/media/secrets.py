"""Linked accounts' tokens at rest: encrypted when a key is configured, and never shown.

With `[security] secret_key` (`MOVIEBOT_SECURITY_SECRET_KEY`) set and the `cryptography`
package installed, a token is stored as "fernet:" + a Fernet token (AES-128-CBC + HMAC-SHA256)
under a key derived from the secret (SHA-256). Without either, tokens are stored as
"plain:" + the token, in a database file only its owner may read (0600, `bot.storage.connection`;
PostgreSQL: the server's own access control), and `TokenBox.note` says so at start-up. A
stored token that cannot be opened (the key changed or went) reads as None: the member is
asked to link again; it is never guessed or shown.
"""

from __future__ import annotations

import base64
import hashlib
import importlib
from typing import Any

FERNET = "fernet:"
PLAIN = "plain:"


def _fernet(secret: str) -> Any | None:
    """A Fernet for `secret`, or None when the `cryptography` package is not installed."""
    try:
        module = importlib.import_module("cryptography.fernet")
    except ImportError:
        return None
    key = base64.urlsafe_b64encode(hashlib.sha256(secret.encode("utf-8")).digest())
    return module.Fernet(key)


class TokenBox:
    def __init__(self, secret_key: str = "") -> None:
        self._fernet = _fernet(secret_key) if secret_key else None
        self.note = ""
        if secret_key and self._fernet is None:
            self.note = ("[security] secret_key is set but the `cryptography` package is not "
                         "installed: linked accounts' tokens are stored unencrypted (in a "
                         "database file only its owner can read); `pip install cryptography` "
                         "to encrypt them")

    @property
    def encrypts(self) -> bool:
        return self._fernet is not None

    def seal(self, token: str | None) -> str | None:
        if token is None:
            return None
        if self._fernet is not None:
            return FERNET + self._fernet.encrypt(token.encode("utf-8")).decode("ascii")
        return PLAIN + token

    def open(self, stored: str | None) -> str | None:
        if stored is None:
            return None
        if stored.startswith(PLAIN):
            return stored[len(PLAIN):]
        if stored.startswith(FERNET) and self._fernet is not None:
            try:
                return str(self._fernet.decrypt(stored[len(FERNET):].encode("ascii"))
                           .decode("utf-8"))
            except Exception:  # InvalidToken: another key
                return None
        return None
