"""The HTTP seam the media clients share: one aiohttp session per client, short timeouts, no
redirects (a 3xx is a failure, so a key never reaches a host a redirect names), bodies read
up to a cap, and errors that never carry a URL's query (where a key could be).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

import aiohttp

from bot.i18n import _, number
from bot.media.models import MediaUnavailable

TIMEOUT = 10.0  # seconds per request
MAX_BODY = 8 * 1024 * 1024  # a page of a big history is a few hundred KB
OFF_LOOP_BYTES = 256 * 1024  # bodies from this size are decoded in a thread
USER_AGENT = "moviebot/1 (a self-hosted Discord movie bot)"


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            raise MediaUnavailable(_("the service answered something that is not JSON")) from None

    async def json_off_loop(self) -> Any:
        """`json()`, decoded in a thread when the body is big (a long history page)."""
        if len(self.body) < OFF_LOOP_BYTES:
            return self.json()
        return await asyncio.to_thread(self.json)


class HttpClient:
    """Requests to one service; `name` is what errors call it."""

    def __init__(self, name: str, base_url: str, *, headers: dict[str, str] | None = None,
                 timeout: float = TIMEOUT, max_body: int = MAX_BODY) -> None:
        self.name = name
        self.base_url = base_url.rstrip("/")
        self._headers = {"User-Agent": USER_AGENT, **(headers or {})}
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._max_body = max_body
        self._session: aiohttp.ClientSession | None = None
        self.requests = 0  # sent (tests and logs)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout,
                                                  headers=self._headers)
        return self._session

    async def request(self, method: str, path: str, *, params: dict[str, str] | None = None,
                      json_body: Any = None, headers: dict[str, str] | None = None,
                      url: str | None = None) -> Response:
        """One request to `base_url + path` (or `url`); MediaUnavailable when the service
        cannot be reached, redirects, or answers more than the cap."""
        target = url or f"{self.base_url}{path}"
        self.requests += 1
        try:
            async with self._open().request(method, target, params=params, json=json_body,
                                            headers=headers, allow_redirects=False) as resp:
                if 300 <= resp.status < 400:
                    raise MediaUnavailable(_("{service} answered with a redirect ({status}); "
                                             "check its URL in the config").format(
                        service=self.name, status=resp.status))
                # `read(n)` answers what has arrived (a first chunk of a big page): read on
                # to the end, refusing past the cap.
                body = bytearray()
                async for chunk in resp.content.iter_chunked(64 * 1024):
                    body += chunk
                    if len(body) > self._max_body:
                        raise MediaUnavailable(_("{service} answered more than {size} MB").format(
                            service=self.name, size=number(self._max_body // (1024 * 1024))))
                return Response(resp.status, {k.lower(): v for k, v in resp.headers.items()},
                                bytes(body))
        except (aiohttp.ClientError, TimeoutError) as error:
            problem = (_("{service} timed out") if isinstance(error, TimeoutError)
                       else _("{service} cannot be reached"))
            raise MediaUnavailable(problem.format(service=self.name)) from None

    async def get_json(self, path: str, params: dict[str, str] | None = None) -> Any:
        """GET and decode JSON; MediaUnavailable for any status but 200."""
        response = await self.request("GET", path, params=params)
        check(self.name, response)
        return await response.json_off_loop()


def check(name: str, response: Response) -> None:
    """MediaUnavailable naming the problem, unless the answer is a 2xx."""
    if 200 <= response.status < 300:
        return
    if response.status in (401, 403):
        raise MediaUnavailable(_("{service} refused the bot's credentials ({status}); the bot "
                                 "admin should check the key or token in the config").format(
            service=name, status=response.status))
    raise MediaUnavailable(_("{service} answered {status}").format(service=name,
                                                                  status=response.status))
