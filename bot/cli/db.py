"""`hoist db backup` and `hoist db restore`: the store copied out, and back into an empty
data directory (or database)."""

from __future__ import annotations

import argparse
import sqlite3
from pathlib import Path

from .common import UsageError


def cmd_backup(args: argparse.Namespace) -> int:
    from ..adapters.backup import BackupError, backup
    from ..settings import Settings

    settings = Settings.from_env()
    target = Path(args.file)
    if not target.parent.is_dir():  # found before the copy starts, not as sqlite's words
        raise UsageError(f"{target}: no directory {target.parent}: create it or pick another "
                         "path")
    try:
        print(backup(settings.data_dir, settings.database_url, target))
    except (BackupError, OSError, sqlite3.Error) as exc:
        raise UsageError(str(exc)) from None
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from ..adapters.backup import BackupError, restore
    from ..settings import Settings

    settings = Settings.from_env()
    try:
        print(restore(Path(args.file), settings.data_dir, settings.database_url))
    except (BackupError, OSError) as exc:
        raise UsageError(str(exc)) from None
    return 0
