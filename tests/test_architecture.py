"""House rules a reader relies on: the core does no I/O; modules stay small."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.support import ROOT

IO_MODULES = {"fastapi", "starlette", "httpx", "github", "subprocess", "sqlite3", "socket",
              "uvicorn", "requests", "urllib", "os", "shutil", "tenacity", "structlog",
              "sqlalchemy", "psycopg", "alembic"}


def imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def test_core_imports_no_io_library() -> None:
    for path in (ROOT / "bot" / "core").rglob("*.py"):
        assert not imports(path) & IO_MODULES, path


def test_modules_stay_under_about_300_lines() -> None:
    for path in (ROOT / "bot").rglob("*.py"):
        assert len(path.read_text().splitlines()) <= 330, path
