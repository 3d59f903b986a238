"""Every error the service answers is JSON: {"error": "<what is wrong>"}."""

from __future__ import annotations

from fastapi.responses import JSONResponse


def error(status: int, reason: str) -> JSONResponse:
    """A JSON error response."""
    return JSONResponse({"error": reason}, status_code=status)
