"""What signing costs a commit: 30 promotion-sized commits (GitRepo.commit, as the promote
flow makes them) unsigned, signed with an SSH Ed25519 key and with an OpenPGP Ed25519 key,
each as a ratio to the unsigned median measured in the same run, plus CommitSigner's
start-up time. Bar: a signed commit costs less than 3x an unsigned one.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from bot.adapters.git import GitRepo
from bot.adapters.signing import CommitSigner, SigningKey
from bot.demo.manifests import make_manifests_repo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.signing_keys import openpgp_key, ssh_key

COMMITS = 30
FILE = "apps/guestbook/overlays/dev/kustomization.yaml"


def median_commit(repo: GitRepo) -> float:
    base = repo.tip("main")
    assert base is not None
    times = []
    for i in range(COMMITS):
        started = time.perf_counter()
        repo.commit(base, {FILE: f"images: []  # {i}\n"}, f"chore(deploy): bench {i}\n",
                    time.time())
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        url = make_manifests_repo(root / "origin")
        plain = GitRepo(url, root / "plain.git")
        plain.sync()
        baseline = median_commit(plain)
        print(f"unsigned commit: {baseline * 1000:.1f} ms (median of {COMMITS})")
        for fmt, key in (("ssh", ssh_key(root / "ssh")),
                         ("openpgp", openpgp_key(root / "pgp"))):
            started = time.perf_counter()
            signer = CommitSigner(SigningKey(key.private, fmt))
            setup = time.perf_counter() - started
            try:
                repo = GitRepo(url, root / f"{fmt}.git", signer=signer.sign)
                repo.sync()
                signed = median_commit(repo)
            finally:
                signer.close()
            ratio = signed / baseline
            print(f"{fmt:8} signed commit: {signed * 1000:.1f} ms = {ratio:.2f}x unsigned "
                  f"({'ok' if ratio < 3 else 'over the 3x bar'}); key set-up {setup * 1000:.0f} ms")


if __name__ == "__main__":
    main()
