"""Request body parsing: JSON bodies and discord.py's multipart uploads.

discord.py sends files as ``multipart/form-data`` with a ``payload_json`` part (the JSON body)
and one ``files[N]`` part per file. :func:`parse_body` returns the JSON and the raw file bytes
with their filenames, byte-exact.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass
class UploadedFile:
    """A file part of a multipart request."""

    field: str
    filename: str
    data: bytes
    content_type: str | None = None

    @property
    def index(self) -> int | None:
        """``N`` of a ``files[N]`` field (the attachment id used in ``payload_json``)."""
        if self.field.startswith("files[") and self.field.endswith("]"):
            try:
                return int(self.field[6:-1])
            except ValueError:
                return None
        return None


@dataclass
class ParsedBody:
    json: Any = None
    files: list[UploadedFile] = field(default_factory=list)
    raw: bytes = b""


def _header_params(value: str) -> tuple[str, dict[str, str]]:
    parts = [p.strip() for p in value.split(";")]
    params: dict[str, str] = {}
    for p in parts[1:]:
        if "=" in p:
            k, v = p.split("=", 1)
            v = v.strip()
            if len(v) >= 2 and v[0] == v[-1] == '"':
                v = v[1:-1]
            params[k.strip().lower()] = v
    return parts[0].lower(), params


def _split_parts(body: bytes, boundary: bytes) -> list[bytes]:
    """Part bodies between delimiters (``CRLF--boundary`` followed by CRLF or ``--``)."""
    delimiter = b"--" + boundary
    if body.startswith(delimiter):
        body = b"\r\n" + body
    delimiter = b"\r\n" + delimiter
    parts: list[bytes] = []
    start = None
    pos = 0
    while True:
        i = body.find(delimiter, pos)
        if i < 0:
            break
        tail = body[i + len(delimiter): i + len(delimiter) + 2]
        if tail not in (b"\r\n", b"--"):
            pos = i + 1  # the boundary text inside content, not a delimiter
            continue
        if start is not None:
            parts.append(body[start:i])
        if tail == b"--":
            break
        start = i + len(delimiter) + 2
        pos = start
    return parts


def parse_multipart(body: bytes, boundary: str) -> tuple[dict[str, str], list[UploadedFile]]:
    """Split a multipart/form-data body into text fields and file parts."""
    fields: dict[str, str] = {}
    files: list[UploadedFile] = []
    for chunk in _split_parts(body, boundary.encode()):
        head, _, data = chunk.partition(b"\r\n\r\n")
        headers: dict[str, str] = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            if ":" in line:
                k, v = line.split(":", 1)
                headers[k.strip().lower()] = v.strip()
        _, disp = _header_params(headers.get("content-disposition", ""))
        name = disp.get("name", "")
        filename = disp.get("filename") or disp.get("filename*")
        if filename is not None:
            files.append(UploadedFile(name, filename, data, headers.get("content-type")))
        else:
            fields[name] = data.decode("utf-8")
    return fields, files


def parse_body(content_type: str | None, body: bytes) -> ParsedBody:
    if not body:
        return ParsedBody(raw=body)
    mime, params = _header_params(content_type or "")
    if mime == "multipart/form-data" and "boundary" in params:
        fields, files = parse_multipart(body, params["boundary"])
        payload = fields.get("payload_json")
        return ParsedBody(json=json.loads(payload) if payload else None, files=files, raw=body)
    try:
        return ParsedBody(json=json.loads(body), raw=body)
    except ValueError:
        return ParsedBody(json=None, raw=body)
