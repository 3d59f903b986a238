"""Commit signing with git's own machinery (`gpg.format`, `user.signingKey`): an SSH key
signed by Debian's ssh-keygen, or an OpenPGP key signed by GnuPG.

The key text lives only in a private temporary directory (mode 0700, files 0600) that
`close()` removes; nothing is written to the git cache's config. Signatures stay
deterministic where commits are: SSH signatures (SSHSIG, PROTOCOL.sshsig) carry no time and
Ed25519/RSA signing is deterministic; OpenPGP signatures carry a creation time (RFC 4880
§5.2.3.4), so GnuPG runs with `--faked-system-time` set to the commit's own date.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

FORMATS = ("ssh", "openpgp")
# The commit time the gpg wrapper signs at (set by GitRepo per commit; not a setting).
SIGNATURE_TIME_ENV = "_HOIST_SIGNATURE_TIME"


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
    """A key made ready for git in a private temporary directory; `git_config` is what git
    needs to sign with it. SigningError at once when the key is not a usable private key or
    the passphrase is wrong, so a bad key stops Hoist at start, not at its first commit."""

    def __init__(self, key: SigningKey) -> None:
        self.format = key.format
        self.key_id = ""  # SHA256:… (ssh) or the OpenPGP fingerprint: public, for the logs
        self._dir = Path(tempfile.mkdtemp(prefix="hoist-signing-"))  # mode 0700
        try:
            if key.format == "ssh":
                self.git_config = self._ssh(key)
            else:
                self.git_config = self._openpgp(key)
        except BaseException:
            self.close()
            raise

    def _private(self, name: str, text: str, mode: int = 0o600) -> Path:
        path = self._dir / name
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        return path

    # SSH -------------------------------------------------------------------------------------

    def _ssh(self, key: SigningKey) -> dict[str, str]:
        path = self._private("key", key.text)
        # ssh-keygen reads a passphrase from a terminal or SSH_ASKPASS only: the askpass
        # script echoes it from this process's environment, never from a file or argv.
        askpass = self._private("askpass", '#!/bin/sh\nprintf "%s\\n" "$HOIST_ASKPASS"\n',
                                0o700)
        env = {**os.environ, "SSH_ASKPASS": str(askpass), "SSH_ASKPASS_REQUIRE": "force",
               "HOIST_ASKPASS": key.passphrase or ""}
        public = _run(["ssh-keygen", "-y", "-f", str(path)], env)
        if public.returncode != 0:
            raise SigningError(_ssh_reason(public.stderr, key.passphrase))
        if key.passphrase:
            # Decrypt the private copy once, so git's ssh-keygen never needs to ask.
            _run(["ssh-keygen", "-p", "-q", "-N", "", "-f", str(path)], env, check=True)
        probe = self._private("probe", "hoist signing probe\n")
        signed = _run(["ssh-keygen", "-Y", "sign", "-n", "git", "-f", str(path), str(probe)],
                      env)
        if signed.returncode != 0:
            raise SigningError(f"HOIST_SIGNING_KEY cannot sign: {_last_line(signed.stderr)}")
        listed = _run(["ssh-keygen", "-l", "-f", str(path)], env)
        self.key_id = listed.stdout.split()[1] if listed.returncode == 0 else "ssh"
        return {"gpg.format": "ssh", "user.signingKey": str(path), "commit.gpgSign": "true"}

    # OpenPGP ---------------------------------------------------------------------------------

    def _openpgp(self, key: SigningKey) -> dict[str, str]:
        home = self._dir / "gnupg"
        home.mkdir(mode=0o700)
        self._home = home
        # The agent re-protects the imported key in this private directory, where the
        # passphrase file sits beside it anyway: the cheapest S2K (RFC 4880 §3.7.1.3) keeps
        # each signature a few milliseconds instead of a calibrated ~100 ms per commit.
        (home / "gpg-agent.conf").write_text("s2k-count 65536\n")
        # Always a passphrase file (empty without one): a protected key then fails as a bad
        # passphrase, not as "cannot get input in batch mode".
        passphrase = self._private("passphrase", key.passphrase or "")
        base = ["gpg", "--homedir", str(home), "--batch", "--no-tty", "--pinentry-mode",
                "loopback", "--passphrase-file", str(passphrase)]
        imported = _run([*base, "--import"], dict(os.environ), stdin=key.text)
        listing = _run([*base, "--with-colons", "--list-secret-keys"], dict(os.environ))
        records = [line.split(":") for line in listing.stdout.splitlines()]
        fingerprints = [r[9] for r in records if r[0] == "fpr"]
        if imported.returncode != 0 or not any(r[0] == "sec" for r in records):
            raise SigningError("HOIST_SIGNING_KEY is not an OpenPGP secret key "
                               f"({_last_line(imported.stderr) or 'no secret key found'})")
        fingerprint = fingerprints[0]
        # gpg refuses to sign "before" a key existed: sign no earlier than its newest part.
        created = max(int(r[5]) for r in records if r[0] in ("sec", "ssb") and r[5])
        wrapper = self._private("gpg", _GPG_WRAPPER.format(
            var=SIGNATURE_TIME_ENV, created=created,
            gpg=" ".join(shlex.quote(part) for part in base)), 0o700)
        signed = _run([str(wrapper), "--detach-sign", "--armor", "-u", fingerprint],
                      dict(os.environ), stdin="hoist signing probe\n")
        if signed.returncode != 0:
            if "passphrase" in signed.stderr.lower():
                raise SigningError("the OpenPGP key cannot be unlocked: HOIST_SIGNING_PASSPHRASE "
                                   "is missing or wrong")
            raise SigningError(f"the OpenPGP key cannot sign: {_last_line(signed.stderr)}")
        self.key_id = fingerprint
        return {"gpg.format": "openpgp", "gpg.openpgp.program": str(wrapper),
                "user.signingKey": fingerprint, "commit.gpgSign": "true"}

    def close(self) -> None:
        """Stop GnuPG's agent (if one ran) and remove the key's directory."""
        if getattr(self, "_home", None) is not None and shutil.which("gpgconf"):
            _run(["gpgconf", "--homedir", str(self._home), "--kill", "gpg-agent"],
                 dict(os.environ))
        shutil.rmtree(self._dir, ignore_errors=True)


# git runs `<program> --status-fd=2 -bsau <key>`; the commit's time arrives in the environment.
_GPG_WRAPPER = """#!/bin/sh
if [ -n "${var}" ]; then
  t="${var}"; [ "$t" -lt {created} ] && t={created}
  set -- --faked-system-time "$t!" "$@"
fi
exec {gpg} "$@"
"""


def _run(args: list[str], env: dict[str, str], stdin: str | None = None,
         check: bool = False) -> subprocess.CompletedProcess[str]:
    try:
        result = subprocess.run(args, env=env, input=stdin if stdin is not None else "",
                                capture_output=True, text=True, timeout=60, check=False)
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
