"""Real signing keys for tests (ssh-keygen, GnuPG) and `git verify-commit` with the public
halves: an allowed-signers file for SSH, an imported public key for OpenPGP."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tests.support import need

EMAIL = "hoist@localhost"


@dataclass(frozen=True)
class SigningTestKey:
    format: str
    private: str  # the key text, as HOIST_SIGNING_KEY holds it
    trust: Path  # allowed-signers file (ssh) or GNUPGHOME holding the public key (openpgp)

    def verify(self, repo: Path | str, commit: str) -> subprocess.CompletedProcess[str]:
        """`git verify-commit --raw` of commit in repo, trusting only this key."""
        if self.format == "ssh":
            args = ["-c", f"gpg.ssh.allowedSignersFile={self.trust}"]
            env = dict(os.environ)
        else:
            args, env = [], {**os.environ, "GNUPGHOME": str(self.trust)}
        return subprocess.run(["git", "-C", str(repo), *args, "verify-commit", "--raw", commit],
                              capture_output=True, text=True, env=env, check=False)


def ssh_key(directory: Path, passphrase: str = "", kind: str = "ed25519") -> SigningTestKey:
    """A fresh SSH key and an allowed-signers file naming it for hoist@localhost."""
    need("ssh-keygen")
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"id_{kind}"
    subprocess.run(["ssh-keygen", "-q", "-t", kind, "-N", passphrase, "-C", EMAIL, "-f",
                    str(path)], check=True, capture_output=True)
    allowed = directory / "allowed_signers"
    allowed.write_text(f"{EMAIL} {path.with_suffix('.pub').read_text()}")
    return SigningTestKey("ssh", path.read_text(), allowed)


def openpgp_key(directory: Path, passphrase: str = "") -> SigningTestKey:
    """A fresh Ed25519 OpenPGP key (armored secret key) and a GNUPGHOME holding only its
    public key. The agents GnuPG starts for making it are stopped again."""
    need("gpg", "gpgconf")
    # The maker's agent puts its socket in its home, and a socket path holds at most 107
    # bytes: a short home under the system's temp directory, whatever `directory` is (a
    # pytest-xdist worker's tmp_path is long).
    maker = Path(tempfile.mkdtemp(prefix="gpg-"))
    verifier = directory / "gnupg-verifier"
    verifier.mkdir(parents=True, mode=0o700)
    (maker / "gpg-agent.conf").write_text("s2k-count 65536\n")  # no slow calibration
    base = ["gpg", "--homedir", str(maker), "--batch", "--pinentry-mode", "loopback",
            "--passphrase", passphrase, "--s2k-count", "65536"]
    try:
        subprocess.run([*base, "--quick-gen-key", f"Hoist <{EMAIL}>", "ed25519", "sign",
                        "never"], check=True, capture_output=True)
        secret = subprocess.run([*base, "--armor", "--export-secret-keys"], check=True,
                                capture_output=True, text=True).stdout
        public = subprocess.run([*base, "--armor", "--export"], check=True,
                                capture_output=True, text=True).stdout
        subprocess.run(["gpg", "--homedir", str(verifier), "--batch", "--no-autostart",
                        "--import"], input=public, check=True, capture_output=True, text=True)
    finally:
        for home in (maker, verifier):
            subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "gpg-agent"],
                           capture_output=True, check=False)
        shutil.rmtree(maker, ignore_errors=True)
    return SigningTestKey("openpgp", secret, verifier)
