"""Debian's PostgreSQL server, started for the tests (and benches) on a loopback port in a
temporary directory. initdb and pg_ctl refuse to run as root: as root they run as the
`postgres` user through runuser."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import psycopg

from bot.demo.registry import free_port


def postgres_bin() -> Path | None:
    """The newest installed server's bin directory (/usr/lib/postgresql/N/bin), if any."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    return Path(found[-1]).parent if found else None


class PostgresServer:
    """One throw-away cluster; `database()` hands out a fresh, empty database's URL."""

    def __init__(self, durable: bool = False) -> None:
        bin_dir = postgres_bin()
        if bin_dir is None:
            raise FileNotFoundError("PostgreSQL server binaries (apt-get install postgresql)")
        self.bin = bin_dir
        self.root = Path(tempfile.mkdtemp(prefix="hoist-pg-"))
        self.port = free_port()
        self.durable = durable
        self._count = 0
        self._as_postgres = os.geteuid() == 0

    def _run(self, *args: str) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, cwd="/")

    def start(self) -> PostgresServer:
        if self._as_postgres:
            shutil.chown(self.root, "postgres", "postgres")
        data = self.root / "data"
        self._run("initdb", "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                  "--no-sync")
        fast = "" if self.durable else "fsync = off\nsynchronous_commit = off\n" \
                                       "full_page_writes = off\n"
        with open(data / "postgresql.conf", "a") as conf:
            conf.write(f"listen_addresses = '127.0.0.1'\nport = {self.port}\n"
                       f"unix_socket_directories = '{self.root}'\nmax_connections = 300\n"
                       f"{fast}")
        return self.resume()

    def resume(self) -> PostgresServer:
        """Start the server (again), on the same port and data."""
        self._run("pg_ctl", "-D", str(self.root / "data"), "-l", str(self.root / "server.log"),
                  "-w", "-t", "60", "start")
        return self

    def pause(self) -> None:
        """Stop the server at once (as a crash would), keeping its data."""
        with contextlib.suppress(subprocess.CalledProcessError):
            self._run("pg_ctl", "-D", str(self.root / "data"), "-m", "immediate", "-w", "stop")

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def database(self, name: str | None = None) -> str:
        """A new empty database; its URL (postgresql://postgres@127.0.0.1:PORT/NAME)."""
        self._count += 1
        name = name or f"hoist_{os.getpid()}_{self._count}"
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        self.pause()
        shutil.rmtree(self.root, ignore_errors=True)
