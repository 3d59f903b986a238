"""Debian's PostgreSQL server, started for the tests (and benches) on a loopback port in a
temporary directory, with trust or (given a password) scram-sha-256 authentication.
initdb and pg_ctl refuse to run as root: as root they run as the `postgres` user through
runuser."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import quote

import psycopg

from bot.demo.registry import free_port


def postgres_bin() -> Path | None:
    """The newest installed server's bin directory (/usr/lib/postgresql/N/bin), if any."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    return Path(found[-1]).parent if found else None


class PostgresServer:
    """One throw-away cluster; `database()` hands out a fresh, empty database's URL."""

    def __init__(self, password: str | None = None, durable: bool = False) -> None:
        bin_dir = postgres_bin()
        if bin_dir is None:
            raise FileNotFoundError("PostgreSQL server binaries (apt-get install postgresql)")
        self.bin = bin_dir
        self.password = password
        self.root = Path(tempfile.mkdtemp(prefix="hoist-pg-"))  # not under a root-only tmp
        self.dir = self.root
        self.port = free_port()
        self.durable = durable
        self._count = 0
        self._as_postgres = os.geteuid() == 0

    def _run(self, *args: str) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, cwd="/", timeout=120)

    def start(self) -> PostgresServer:
        if self._as_postgres:
            shutil.chown(self.root, "postgres", "postgres")
        data = self.root / "data"
        auth = ["-A", "trust"]
        if self.password is not None:
            secret = self.root / "pw"
            secret.write_text(self.password + "\n")
            if self._as_postgres:
                shutil.chown(secret, "postgres", "postgres")
            auth = ["--auth=scram-sha-256", f"--pwfile={secret}"]
        self._run("initdb", "-D", str(data), "-U", "postgres", *auth, "-E", "UTF8",
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
        if (self.root / "data" / "postmaster.pid").exists():
            with contextlib.suppress(subprocess.CalledProcessError):
                self._run("pg_ctl", "-D", str(self.root / "data"), "-m", "immediate", "-w",
                          "stop")

    def url(self, db: str, driver: str = "") -> str:
        """postgresql[+driver]://postgres[:<password>]@127.0.0.1:port/db"""
        secret = f":{quote(self.password)}" if self.password is not None else ""
        return f"postgresql{driver}://postgres{secret}@127.0.0.1:{self.port}/{db}"

    @property
    def admin_url(self) -> str:
        return self.url("postgres")

    def database(self, name: str | None = None) -> str:
        """A new empty database; its URL (postgresql://postgres@127.0.0.1:PORT/NAME)."""
        self._count += 1
        name = name or f"hoist_{os.getpid()}_{self._count}"
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def sql(self, statement: str, db: str = "postgres") -> str:
        """Run SQL through psql; its unaligned output without headers."""
        done = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h",
                               "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", db,
                               "-c", statement], capture_output=True, text=True, check=True,
                              env={**os.environ, "PGPASSWORD": self.password or ""},
                              timeout=60)
        return done.stdout.strip()

    def stop(self) -> None:
        self.pause()
        shutil.rmtree(self.root, ignore_errors=True)
