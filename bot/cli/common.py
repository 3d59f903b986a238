"""What every `hoist` command shares: the one-line usage error, reading a file named on the
command line, the settings (with the command's flags) and the store."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..adapters.store import Store
    from ..settings import Settings


class UsageError(Exception):
    """A problem with what the user asked for: printed as one line, exit 2."""


def read_file(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None


def settings_for(args: argparse.Namespace) -> Settings:
    """Settings from the environment, with the command's --config, --role, --no-migrate."""
    from ..settings import Settings, SettingsError

    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        raise UsageError(str(exc)) from None
    if getattr(args, "config", None):
        settings = dataclasses.replace(settings, config_file=Path(args.config))
    if getattr(args, "role", None):
        settings = dataclasses.replace(settings, role=args.role)
    if getattr(args, "no_migrate", False):
        settings = dataclasses.replace(settings, migrate=False)
    return settings


def open_store(settings: Settings, migrate: bool | None = None, wait: float = 30.0) -> Store:
    """The store, waited for up to `wait` seconds while its server does not answer (a
    PostgreSQL starting beside Hoist); UsageError with one line when it never does, when
    its schema is newer than this Hoist, or when the URL is not one."""
    import time

    from ..adapters.store import BadDatabaseUrl, SchemaError, StoreUnavailable
    from ..wiring import build_store

    deadline = time.monotonic() + wait
    while True:
        try:
            return build_store(settings, migrate)
        except (SchemaError, BadDatabaseUrl) as exc:
            raise UsageError(str(exc)) from None
        except StoreUnavailable as exc:
            if time.monotonic() > deadline:
                raise UsageError(f"the store is unreachable: {exc}") from None
            time.sleep(1.0)
