"""Fault switches for reliability tests: rate limits, server errors, slow responses.

Patterns are ``"METHOD /path-glob"`` or just ``"/path-glob"`` (any method), matched with
:func:`fnmatch.fnmatchcase` against the path relative to ``/api/v10`` (no query string), e.g.
``"POST /interactions/*/callback"`` or ``"/webhooks/*"``. Each switch fires for the next
``count`` matching requests (``None`` = until cleared) and counts its ``hits``.

Gateway faults (dropping the websocket, refusing RESUME) live on :class:`GatewayHub` and are
reachable from the emulator as ``emu.drop_websocket()`` / ``emu.faults.refuse_next_resume``.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from dataclasses import dataclass, field
from fnmatch import fnmatchcase

from aiohttp import web


@dataclass
class Fault:
    pattern: str
    kind: str  # "rate_limit" | "status" | "delay"
    count: int | None = 1
    status: int = 500
    retry_after: float = 0.05
    scope: str = "user"
    is_global: bool = False
    bucket: str = "emulatorbucket"
    delay: float = 0.0
    body: dict | None = None
    hits: int = 0
    matched: list[str] = field(default_factory=list)

    def matches(self, method: str, path: str) -> bool:
        if self.count is not None and self.hits >= self.count:
            return False
        pat = self.pattern.strip()
        want_method = None
        if " " in pat:
            want_method, pat = pat.split(None, 1)
        if want_method and want_method.upper() != method.upper():
            return False
        return fnmatchcase(path, pat)

    @property
    def exhausted(self) -> bool:
        return self.count is not None and self.hits >= self.count


def json_response(data: object, status: int = 200, headers: dict[str, str] | None = None):
    """A JSON response with Content-Type exactly ``application/json`` (discord.py compares it)."""
    return web.Response(
        body=json.dumps(data).encode(),
        status=status,
        headers=headers,
        content_type="application/json",
    )


class FaultPlan:
    """The active fault switches; consulted by the REST middleware for every request."""

    def __init__(self) -> None:
        self.faults: list[Fault] = []
        self.refuse_next_resume = False

    def rate_limit(
        self,
        pattern: str,
        *,
        count: int | None = 1,
        retry_after: float = 0.05,
        scope: str = "user",
        is_global: bool = False,
        bucket: str = "emulatorbucket",
    ) -> Fault:
        """Answer 429 (with ``Via``, ``retry_after`` JSON and ``X-RateLimit-*`` headers)."""
        fault = Fault(pattern, "rate_limit", count, status=429, retry_after=retry_after,
                      scope=scope, is_global=is_global, bucket=bucket)
        self.faults.append(fault)
        return fault

    def error(
        self, pattern: str, status: int = 500, *, count: int | None = 1, body: dict | None = None
    ) -> Fault:
        """Answer ``status`` (500, 502, 503, 400, 403, ...) with a Discord-style error body."""
        fault = Fault(pattern, "status", count, status=status, body=body)
        self.faults.append(fault)
        return fault

    def server_error(self, pattern: str, *, count: int | None = 1, status: int = 500) -> Fault:
        return self.error(pattern, status, count=count)

    def delay(self, pattern: str, seconds: float, *, count: int | None = None) -> Fault:
        """Sleep ``seconds`` before handling matching requests normally."""
        fault = Fault(pattern, "delay", count, delay=seconds)
        self.faults.append(fault)
        return fault

    def clear(self) -> None:
        self.faults.clear()
        self.refuse_next_resume = False

    def match(self, method: str, path: str) -> list[Fault]:
        return [f for f in self.faults if f.matches(method, path)]

    async def apply(self, method: str, path: str) -> tuple[web.Response | None, str | None]:
        """Run delays; return an error response if a status fault fires, else ``None``."""
        label = None
        for fault in self.match(method, path):
            fault.hits += 1
            fault.matched.append(f"{method} {path}")
            if fault.kind == "delay":
                await asyncio.sleep(fault.delay)
                label = f"delay {fault.delay}s"
                continue
            if fault.kind == "rate_limit":
                return self._rate_limited(fault), "429"
            return self._error(fault), str(fault.status)
        return None, label

    @staticmethod
    def _rate_limited(fault: Fault) -> web.Response:
        body = {
            "message": "You are being rate limited.",
            "retry_after": fault.retry_after,
            "global": fault.is_global,
            "code": 0,
        }
        headers = {
            "Via": "1.1 google",
            "Retry-After": str(max(1, math.ceil(fault.retry_after))),
            "X-RateLimit-Limit": "5",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": f"{time.time() + fault.retry_after:.3f}",
            "X-RateLimit-Reset-After": f"{fault.retry_after:.3f}",
            "X-RateLimit-Bucket": fault.bucket,
            "X-RateLimit-Scope": fault.scope,
        }
        if fault.is_global:
            headers["X-RateLimit-Global"] = "true"
        return json_response(body, 429, headers)

    @staticmethod
    def _error(fault: Fault) -> web.Response:
        if fault.body is not None:
            return json_response(fault.body, fault.status)
        if fault.status >= 500:
            text = {500: "500: Internal Server Error", 502: "502: Bad Gateway",
                    503: "503: Service Unavailable"}.get(fault.status, f"{fault.status}: Error")
            return json_response({"message": text, "code": 0}, fault.status)
        messages = {
            400: (50035, "Invalid Form Body"),
            401: (0, "401: Unauthorized"),
            403: (50013, "Missing Permissions"),
            404: (10003, "Unknown Channel"),
        }
        code, text = messages.get(fault.status, (0, f"{fault.status}: Error"))
        return json_response({"message": text, "code": code}, fault.status)
