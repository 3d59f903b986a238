"""A throw-away PostgreSQL server (Debian's postgresql) on a loopback port, with password
authentication; run as the postgres user when the tests run as root."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from bot.demo.registry import free_port
from tests.support import need


def _bin(program: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{program}"))
    return found[-1] if found else program


class PostgresServer:
    def __init__(self, password: str) -> None:
        self.password = password
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="hoist-pg-"))  # not under a root-only tmp_path
        self._as_root = os.geteuid() == 0

    def _run(self, *args: str, stdin: str | None = None) -> str:
        prefix = ["runuser", "-u", "postgres", "--"] if self._as_root else []
        return subprocess.run([*prefix, *args], input=stdin, capture_output=True, text=True,
                              check=True, timeout=120).stdout

    def start(self) -> PostgresServer:
        need("pg_dump", "pg_restore", "psql")
        if not Path(_bin("initdb")).exists() and shutil.which("initdb") is None:
            need("initdb")
        if self._as_root:
            shutil.chown(self.dir, "postgres", "postgres")
        password_file = self.dir / "pw"
        password_file.write_text(self.password + "\n")
        if self._as_root:
            shutil.chown(password_file, "postgres", "postgres")
        data = self.dir / "data"
        self._run(_bin("initdb"), "-D", str(data), "-U", "postgres", "--auth=scram-sha-256",
                  f"--pwfile={password_file}", "--no-sync")
        self._run(_bin("pg_ctl"), "-D", str(data), "-l", str(self.dir / "log"), "-w", "-o",
                  f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off",
                  "start")
        return self

    def url(self, db: str, driver: str = "") -> str:
        """postgresql[+driver]://postgres:<password>@127.0.0.1:port/db"""
        from urllib.parse import quote

        return f"postgresql{driver}://postgres:{quote(self.password)}@127.0.0.1:{self.port}/{db}"

    def sql(self, statement: str, db: str = "postgres") -> str:
        """Run SQL through psql; its unaligned output without headers."""
        done = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h",
                               "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", db,
                               "-c", statement], capture_output=True, text=True, check=True,
                              env={**os.environ, "PGPASSWORD": self.password}, timeout=60)
        return done.stdout.strip()

    def stop(self) -> None:
        if (self.dir / "data" / "postmaster.pid").exists():
            self._run(_bin("pg_ctl"), "-D", str(self.dir / "data"), "-m", "immediate", "-w",
                      "stop")
        shutil.rmtree(self.dir, ignore_errors=True)
