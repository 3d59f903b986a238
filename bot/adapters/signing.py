"""Commit signing: an SSH key signed by Debian's ssh-keygen (SSHSIG), or an OpenPGP key signed
by GnuPG, over the commit text GitRepo hands over; git then stores the signature.

The key never sits in a file that outlives the process. An SSH key (decrypted once at start)
lives in an anonymous in-memory file (memfd_create(2), mode 0600) that ssh-keygen reads as
/dev/fd/N, handed over with pass_fds; it is gone when the process is, whatever signal ended
it. GnuPG needs a home: each signature gets a private one (0700) that is removed, its agent
stopped, in `finally`. A home left by a process killed mid-signature (SIGKILL) is removed by
the next start. Signatures stay deterministic where commits are: SSH signatures carry no time
and Ed25519/RSA signing is deterministic; OpenPGP signatures carry a creation time (RFC 4880
§5.2.3.4), so GnuPG runs with `--faked-system-time` set to the commit's own date.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

FORMATS = ("ssh", "openpgp")
PREFIX = "hoist-signing-"  # + pid + "-" + random: what a start may remove when the pid is gone
_LEFTOVER = re.compile(rf"{PREFIX}(?:(\d+)-)?[a-z0-9_]+")


class SigningError(RuntimeError):
    """The signing key cannot be used; the message says why (never the key or passphrase)."""


@dataclass(frozen=True)
class SigningKey:
    """What the environment says: HOIST_SIGNING_KEY (the key text) or HOIST_SIGNING_KEY_FILE,
    HOIST_SIGNING_FORMAT (`ssh`, the default, or `openpgp`), HOIST_SIGNING_PASSPHRASE."""

    text: str = field(repr=False)
    format: str = "ssh"
    passphrase: str | None = field(default=None, repr=False)


def key_from_settings(key: str | None, key_file: Path | None, fmt: str | None,
                      passphrase: str | None) -> SigningKey | None:
    """The configured signing key, or None when signing is off. SigningError when the
    variables contradict each other or the file cannot be read."""
    fmt = (fmt or "ssh").strip().lower()
    if fmt not in FORMATS:
        raise SigningError(f"HOIST_SIGNING_FORMAT must be ssh or openpgp, not {fmt!r}")
    if key and key_file:
        raise SigningError("set HOIST_SIGNING_KEY or HOIST_SIGNING_KEY_FILE, not both")
    if key_file is not None:
        try:
            key = key_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else "not text"
            raise SigningError(f"HOIST_SIGNING_KEY_FILE {key_file}: {reason}") from None
    if not key or not key.strip():
        if passphrase:
            raise SigningError("HOIST_SIGNING_PASSPHRASE is set but no key is: set "
                               "HOIST_SIGNING_KEY or HOIST_SIGNING_KEY_FILE")
        if key_file is not None:
            raise SigningError(f"HOIST_SIGNING_KEY_FILE {key_file} is empty")
        return None
    # Secrets injected by Kubernetes or CI may carry CRLF or lose the final newline.
    text = key.replace("\r\n", "\n").strip() + "\n"
    return SigningKey(text, fmt, passphrase or None)


class CommitSigner:
    """A key made ready to sign; `sign(payload, when)` gives the armored signature git stores
    in the commit's `gpgsig` header. SigningError at once when the key is not a usable private
    key or the passphrase is wrong, so a bad key stops Hoist at start, not at its first commit.
    Safe to call from several threads."""

    def __init__(self, key: SigningKey) -> None:
        remove_leftovers()
        self.format = key.format
        self.key_id = ""  # SHA256:… (ssh) or the OpenPGP fingerprint: public, for the logs
        self._fd: int | None = None
        self._key = key
        self._created = 0
        try:
            if key.format == "ssh":
                self._start_ssh(key)
            else:
                self._start_openpgp(key)
        except BaseException:
            self.close()
            raise

    def sign(self, payload: str, when: float) -> str:
        """The ASCII-armored signature of payload (a commit's text), made at `when` (Unix
        seconds; only OpenPGP signatures carry a time). SigningError when the tool fails."""
        if self.format == "ssh":
            return self._ssh_sign(payload).stdout
        with _gnupg_home() as home:
            return self._openpgp_sign(home, payload, when).stdout

    def close(self) -> None:
        """Forget the key: the in-memory file is freed once no process holds it."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    # SSH -------------------------------------------------------------------------------------

    @property
    def _path(self) -> str:
        assert self._fd is not None, "the signer is closed"
        return f"/dev/fd/{self._fd}"

    def _start_ssh(self, key: SigningKey) -> None:
        self._fd = os.memfd_create("hoist-signing-key", os.MFD_CLOEXEC)
        os.fchmod(self._fd, 0o600)  # ssh-keygen refuses a key others could read
        data = key.text.encode()
        while data:
            data = data[os.write(self._fd, data):]
        fds = (self._fd,)
        with _private_dir() as tmp:
            # ssh-keygen reads a passphrase from a terminal or SSH_ASKPASS only: the askpass
            # script (no secret in it) echoes it from the environment, never from a file or argv.
            askpass = tmp / "askpass"
            askpass.write_text('#!/bin/sh\nprintf "%s\\n" "$HOIST_ASKPASS"\n')
            askpass.chmod(0o700)
            env = {**os.environ, "SSH_ASKPASS": str(askpass), "SSH_ASKPASS_REQUIRE": "force",
                   "HOIST_ASKPASS": key.passphrase or ""}
            public = _run(["ssh-keygen", "-y", "-f", self._path], env, fds=fds)
            if public.returncode != 0:
                raise SigningError(_ssh_reason(public.stderr, key.passphrase))
            if key.passphrase:  # decrypted once, in memory, so signing never needs to ask
                _run(["ssh-keygen", "-p", "-q", "-N", "", "-f", self._path], env, check=True,
                     fds=fds)
        signed = self._ssh_sign("hoist signing probe\n", check=False)
        if signed.returncode != 0:
            raise SigningError(f"HOIST_SIGNING_KEY cannot sign: {_last_line(signed.stderr)}")
        listed = _run(["ssh-keygen", "-l", "-f", self._path], dict(os.environ), fds=fds)
        self.key_id = listed.stdout.split()[1] if listed.returncode == 0 else "ssh"

    def _ssh_sign(self, payload: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        # No file names: the data comes on stdin and the signature on stdout.
        return _run(["ssh-keygen", "-q", "-Y", "sign", "-n", "git", "-f", self._path],
                    dict(os.environ), stdin=payload, check=check, fds=(self._fd or -1,))

    # OpenPGP ---------------------------------------------------------------------------------

    def _start_openpgp(self, key: SigningKey) -> None:
        with _gnupg_home() as home:
            imported = self._gpg(home, ["--import"], key.text)
            listing = self._gpg(home, ["--with-colons", "--list-secret-keys"], "")
            records = [line.split(":") for line in listing.stdout.splitlines()]
            if imported.returncode != 0 or not any(r[0] == "sec" for r in records):
                raise SigningError("HOIST_SIGNING_KEY is not an OpenPGP secret key "
                                   f"({_last_line(imported.stderr) or 'no secret key found'})")
            self.key_id = next(r[9] for r in records if r[0] == "fpr")
            # gpg refuses to sign "before" a key existed: sign no earlier than its newest part.
            self._created = max(int(r[5]) for r in records if r[0] in ("sec", "ssb") and r[5])
            signed = self._openpgp_sign(home, "hoist signing probe\n", None, imported=True,
                                        check=False)
        if signed.returncode != 0:
            if "passphrase" in signed.stderr.lower():
                raise SigningError("the OpenPGP key cannot be unlocked: HOIST_SIGNING_PASSPHRASE "
                                   "is missing or wrong")
            raise SigningError(f"the OpenPGP key cannot sign: {_last_line(signed.stderr)}")

    def _openpgp_sign(self, home: Path, payload: str, when: float | None,
                      imported: bool = False, check: bool = True
                      ) -> subprocess.CompletedProcess[str]:
        if not imported:
            self._gpg(home, ["--import"], self._key.text, check=True)
        faked = [] if when is None else ["--faked-system-time",
                                         f"{max(int(when), self._created)}!"]
        return self._gpg(home, [*faked, "--detach-sign", "--armor", "-u", self.key_id], payload,
                         check=check)

    def _gpg(self, home: Path, args: Sequence[str], stdin: str,
             check: bool = False) -> subprocess.CompletedProcess[str]:
        """gpg in `home`, the passphrase (empty without one: a protected key then fails as a
        bad passphrase, not as "cannot get input in batch mode") through a pipe."""
        read, write = os.pipe()
        try:
            os.write(write, (self._key.passphrase or "").encode())  # far below a pipe's buffer
            os.close(write)
            write = -1
            return _run(["gpg", "--homedir", str(home), "--batch", "--no-tty", "--pinentry-mode",
                         "loopback", "--passphrase-fd", str(read), *args], dict(os.environ),
                        stdin=stdin, check=check, fds=(read,))
        finally:
            os.close(read)
            if write != -1:
                os.close(write)


def with_signature(commit: str, signature: str) -> str:
    """A commit's text with an armored signature stored as `commit-tree -S` stores it: a
    `gpgsig` header after the committer line, continued lines indented by one space."""
    head, _, body = commit.partition("\n\n")
    folded = signature.rstrip("\n").replace("\n", "\n ")
    return f"{head}\ngpgsig {folded}\n\n{body}"


@contextmanager
def _private_dir() -> Iterator[Path]:
    """A directory only this user can enter (0700), removed on the way out — after GnuPG's
    agent for it (if one started) is stopped."""
    path = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-"))
    try:
        yield path
    finally:
        _remove(path)


@contextmanager
def _gnupg_home() -> Iterator[Path]:
    """A private GnuPG home for one use. Its agent re-protects an imported key there: the
    cheapest S2K (RFC 4880 §3.7.1.3) keeps that a few milliseconds instead of ~100 ms."""
    with _private_dir() as home:
        (home / "gpg-agent.conf").write_text("s2k-count 65536\n")
        yield home


def _remove(path: Path) -> None:
    if (path / "private-keys-v1.d").exists() and shutil.which("gpgconf"):
        subprocess.run(["gpgconf", "--homedir", str(path), "--kill", "gpg-agent"],
                       capture_output=True, check=False, timeout=30)
    shutil.rmtree(path, ignore_errors=True)


def remove_leftovers(tmp: Path | None = None) -> list[Path]:
    """Remove this user's signing directories in the temporary directory whose process is
    gone (killed mid-signature), and those of Hoist versions that kept one for their whole
    life; those of live processes stay. The removed paths."""
    removed = []
    root = Path(tmp or tempfile.gettempdir())
    for entry in root.glob(f"{PREFIX}*"):
        match = _LEFTOVER.fullmatch(entry.name)
        try:
            owned = entry.is_dir() and not entry.is_symlink() and entry.stat().st_uid == os.getuid()
        except OSError:
            continue
        if match is None or not owned or (match.group(1) and _alive(int(match.group(1)))):
            continue
        _remove(entry)
        removed.append(entry)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _run(args: list[str], env: dict[str, str], stdin: str | None = None,
         check: bool = False, fds: Sequence[int] = ()) -> subprocess.CompletedProcess[str]:
    try:
        result = subprocess.run(args, env=env, input=stdin if stdin is not None else "",
                                capture_output=True, text=True, timeout=60, check=False,
                                pass_fds=tuple(fd for fd in fds if fd >= 0))
    except FileNotFoundError:
        package = "openssh-client" if args[0] == "ssh-keygen" else "gnupg"
        raise SigningError(f"commit signing needs {args[0]} (apt-get install {package})") from None
    if check and result.returncode != 0:
        raise SigningError(f"{args[0]} failed: {_last_line(result.stderr)}")
    return result


def _ssh_reason(stderr: str, passphrase: str | None) -> str:
    if "passphrase" in stderr:
        return ("the SSH key cannot be unlocked: HOIST_SIGNING_PASSPHRASE is "
                f"{'wrong' if passphrase else 'missing'}")
    return ("HOIST_SIGNING_KEY is not an SSH private key (for an OpenPGP key set "
            "HOIST_SIGNING_FORMAT=openpgp)")


def _last_line(stderr: str) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    return lines[-1] if lines else ""
