"""A webhook's body as it arrives: bounded in size and time, JSON or refused."""

from __future__ import annotations

import asyncio
import json

from fastapi import Request

MAX_BODY = 1 << 20
# A webhook body is small: one that trickles in is a slow-loris, not a registry.
BODY_TIMEOUT = 10.0
# Registries send JSON under many names (and SNS sends text/plain); forms are a mistake.
REFUSED_TYPES = ("application/x-www-form-urlencoded", "multipart/")


async def read_limited(request: Request) -> bytes | None:
    """The body, or None as soon as it is known to exceed MAX_BODY (a declared
    Content-Length, or the bytes received so far): a huge upload is never held in memory.
    TimeoutError when it takes longer than BODY_TIMEOUT to arrive (a slow sender)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        return None
    chunks, size = [], 0
    async with asyncio.timeout(BODY_TIMEOUT):
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_BODY:
                return None
            chunks.append(chunk)
    return b"".join(chunks)


def json_kind(body: bytes) -> str:
    """The `object_kind` of a JSON object body that parsed already."""
    return str(json.loads(body).get("object_kind") or "")
