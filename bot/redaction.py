"""Secrets never reach an output: every path Python prints through is redacted.

`python -m bot` logs through a handler with `RedactSecrets` (in `bot.__main__`), built from a
`Redactor`: the Discord token becomes "[token]", the other secrets of the config (the
PostgreSQL and Redis passwords, the TMDB key, the job key, the media servers' keys and tokens,
the Trakt client secret and the secret key: `secrets_of(settings)`) become
"[secret]", and the password of any URL (`scheme://user:password@host`) becomes "***", known or
not. `install_excepthooks(redactor)` routes what Python would otherwise print straight to stderr
through the same redaction and the logger `bot.uncaught`:

* an exception nobody catches, in the main thread (`sys.excepthook`) or another thread
  (`threading.excepthook`);
* an exception Python cannot raise (`sys.unraisablehook`: raised in `__del__`, a finaliser or
  a callback at garbage collection);
* a warning (`warnings.showwarning`, logged to `py.warnings` as `logging.captureWarnings`
  would).
"""

from __future__ import annotations

import logging
import re
import sys
import threading
import traceback
import warnings
from collections.abc import Iterable
from types import TracebackType
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from bot.config import Settings

REDACTED = "[token]"
SECRET = "[secret]"
URL_PASSWORD = "***"
MIN_SECRET_LENGTH = 4  # shorter "secrets" would redact ordinary words

log = logging.getLogger("bot.uncaught")

# scheme://user:password@ -> the password part (user may be empty: redis://:pw@host).
_URL_PASSWORD = re.compile(r"(\b[A-Za-z][A-Za-z0-9+.-]*://[^\s:/?#@]*:)([^\s/?#@]+)(@)")


def url_password(url: str) -> str:
    """The password in `url` (percent-decoded as drivers read it), or ""."""
    from urllib.parse import unquote, urlsplit

    try:
        password = urlsplit(url.strip()).password
    except ValueError:
        return ""
    return unquote(password) if password else ""


def secrets_of(settings: Settings) -> list[str]:
    """The config's secrets besides the token: what must never be printed."""
    values = [url_password(settings.database_url), url_password(settings.redis.url),
              settings.tmdb.api_key, getattr(settings.redis, "job_key", ""),
              # The media servers' (issue 25): keys, tokens, the client secret, the secret key.
              settings.jellyfin.api_key, settings.plex.token, settings.trakt.client_secret,
              settings.seerr.api_key, settings.seerr.webhook_secret,
              settings.security.secret_key]
    found: list[str] = []
    for value in values:
        if value and len(value) >= MIN_SECRET_LENGTH and value not in found:
            found.append(value)
            from urllib.parse import quote

            if quote(value, safe="") != value:  # as written in a URL, too
                found.append(quote(value, safe=""))
    return found


def redactor_for(settings: Settings) -> Redactor:
    """What every output of a process with these settings hides: the token and the secrets."""
    return Redactor(settings.token, secrets_of(settings))


class Redactor:
    """Replaces the token, the other secrets and URL passwords in a text."""

    def __init__(self, token: str | None = None, secrets: Iterable[str] = ()) -> None:
        self.token = token or None
        # Longest first: a secret containing another is replaced whole.
        self.secrets = sorted({s for s in secrets if s and s != token}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        if self.token and self.token in text:
            text = text.replace(self.token, REDACTED)
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, SECRET)
        if "://" in text and "@" in text:
            text = _URL_PASSWORD.sub(rf"\g<1>{URL_PASSWORD}\g<3>", text)
        return text


def as_redactor(token: str | Redactor | None) -> Redactor:
    return token if isinstance(token, Redactor) else Redactor(token)


def redact(text: str, token: str | Redactor | None) -> str:
    """`text` with the token ("[token]"), the secrets and URL passwords replaced."""
    return as_redactor(token)(text)


class RedactSecrets(logging.Filter):
    """Redacts a log record: its message, its traceback and its stack."""

    def __init__(self, redactor: str | Redactor | None) -> None:
        super().__init__()
        self.redactor = as_redactor(redactor)

    @property
    def token(self) -> str | None:
        return self.redactor.token

    def filter(self, record: logging.LogRecord) -> bool:
        redact_text = self.redactor
        try:
            message, failed = record.getMessage(), False
        except Exception:  # a bad format: logging would print msg and args raw; not those
            message, failed = f"(unformattable log message) {record.msg!r} % {record.args!r}", True
        clean = redact_text(message)
        if failed or clean != message:
            record.msg = clean
            record.args = None
        # A traceback (exc_info) or stack can carry a secret too (an error message or a
        # request URL): format it here, redacted; the formatter then uses exc_text as is.
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_text(record.exc_text)
        if record.stack_info:
            record.stack_info = redact_text(record.stack_info)
        return True


def _report(where: str, kind: type[BaseException], value: BaseException | None,
            tb: TracebackType | None, redactor: Redactor) -> None:
    text = "".join(traceback.format_exception(kind, value, tb))
    log.critical("uncaught exception in %s\n%s", redactor(where), redactor(text).rstrip())


def install_excepthooks(token: str | Redactor | None) -> None:
    """Make uncaught and unraisable exceptions and warnings redacted log lines (see the
    module docstring)."""
    redactor = as_redactor(token)

    def main_hook(kind: type[BaseException], value: BaseException,
                  tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, value, tb)
            return
        _report("the main thread", kind, value, tb, redactor)

    def thread_hook(args: threading.ExceptHookArgs) -> None:
        if args.exc_type is SystemExit:
            return  # what the default hook does too
        name = args.thread.name if args.thread is not None else "a thread"
        _report(f"thread {name}", args.exc_type, args.exc_value, args.exc_traceback, redactor)

    def unraisable_hook(unraisable: sys.UnraisableHookArgs) -> None:
        try:
            where = repr(unraisable.object) if unraisable.object is not None else "?"
        except Exception:
            where = f"<{type(unraisable.object).__name__} object>"
        text = "".join(traceback.format_exception(
            unraisable.exc_type, unraisable.exc_value, unraisable.exc_traceback))
        log.error("%s: %s\n%s", redactor(unraisable.err_msg or "Exception ignored in"),
                  redactor(where), redactor(text).rstrip())

    def show_warning(message: Warning | str, category: type[Warning], filename: str,
                     lineno: int, file: TextIO | None = None, line: str | None = None) -> None:
        text = warnings.formatwarning(message, category, filename, lineno, line)
        logging.getLogger("py.warnings").warning("%s", redactor(text).rstrip())

    sys.excepthook = main_hook
    threading.excepthook = thread_hook
    sys.unraisablehook = unraisable_hook
    warnings.showwarning = show_warning
