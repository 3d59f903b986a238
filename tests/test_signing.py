"""Signed commits: every commit Hoist writes verifies with `git verify-commit` (SSH keys
through an allowed-signers file, OpenPGP keys through an imported public key); a bad key
stops Hoist at start with the reason; the same promotion still makes the same commit."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot.adapters.forges.local import LocalForge
from bot.adapters.git import GitRepo
from bot.adapters.signing import CommitSigner, SigningError, SigningKey, key_from_settings
from bot.adapters.store import Store
from bot.core.events import ImagePushed
from bot.core.machine import State
from bot.demo.manifests import distribution_envelope, make_manifests_repo
from bot.demo.registry import free_port
from bot.flows.approve import approve
from bot.flows.services import Services
from bot.wiring import ConfigSource
from bot.worker import Worker
from tests.signing_keys import SigningTestKey, openpgp_key, ssh_key
from tests.support import ROOT, ServiceProcess, commit_file, git, wait_for

DIGESTS = {"1.4.2": "sha256:" + "a" * 64, "1.4.3": "sha256:" + "b" * 64}
ROUTE = """\
kind: HTTPRoute
apiVersion: gateway.networking.k8s.io/v1
metadata: {name: guestbook}
spec:
  rules:
    - backendRefs:
        - {name: guestbook-stable, port: 80, weight: 100}
        - {name: guestbook-canary, port: 80, weight: 0}
"""


def canary_policy(analysis: str) -> str:
    """The demo policy with dev canarying 50% → 100% through an HTTPRoute, steps committed
    straight to the branch."""
    text = (ROOT / "manifests-example/demo/hoist.yaml").read_text()
    return text.replace(
        "    approval: none             # merged as soon as it is proposed\n",
        "    approval: none\n    canary:\n"
        "      traffic: {kind: httproute, file: apps/guestbook/overlays/dev/route.yaml,\n"
        "                stable: guestbook-stable, canary: guestbook-canary}\n"
        f"      steps: [{{weight: 50}}, {{weight: 100}}]\n      analysis: {analysis}\n", 1)


@pytest.fixture(params=["ssh", "openpgp"])
def key(request: pytest.FixtureRequest, tmp_path: Path) -> SigningTestKey:
    make = ssh_key if request.param == "ssh" else openpgp_key
    return make(tmp_path / "keys", passphrase="correct horse")


@pytest.fixture
def signed(tmp_path: Path, manifests_url: str, key: SigningTestKey) -> Iterator[Services]:
    signer = CommitSigner(SigningKey(key.private, key.format, "correct horse"))
    store = Store(tmp_path / "data" / "hoist.db")
    repo = GitRepo(manifests_url, tmp_path / "data" / "manifests.git",
                   signer=signer.sign)
    repo.sync()
    yield Services(store, repo, LocalForge(store, repo), ConfigSource(repo, "hoist.yaml", None))
    signer.close()


def push_and_run(services: Services, tag: str, passes: int = 6) -> None:
    services.store.add_events([ImagePushed("distribution", tag, "localhost:5000",
                                           "acme/guestbook", tag, DIGESTS[tag])], time.time())
    for _ in range(passes):
        Worker(services).run_once()


def env_state(services: Services, env: str) -> State:
    return next(p.state for p in services.store.promotions() if p.environment == env)


@pytest.mark.e2e
def test_every_commit_of_a_promotion_chain_verifies(signed: Services, key: SigningTestKey,
                                                    tmp_path: Path, unhealthy: str) -> None:
    remote = signed.git.url.removeprefix("file://")
    commit_file(signed.git.url, "apps/guestbook/overlays/dev/route.yaml", ROUTE, tmp_path / "c1")
    commit_file(signed.git.url, "hoist.yaml", canary_policy("{interval: 0s}"), tmp_path / "c2")
    signed.git.sync()
    # Promotion commits, canary steps and local-forge merges, dev → staging → prod.
    push_and_run(signed, "1.4.2")
    assert env_state(signed, "prod") is State.PROPOSED
    prod = next(p for p in signed.store.promotions() if p.environment == "prod")
    approve(signed.store, prod.id, "alice")
    Worker(signed).run_once()
    assert env_state(signed, "prod") is State.PROMOTED
    # A canary whose health check fails: its commits are reverted.
    commit_file(signed.git.url, "hoist.yaml", canary_policy(
        f"{{interval: 0s, health: {{url: '{unhealthy}', timeout: 1s}}}}"), tmp_path / "c3")
    signed.git.sync()
    push_and_run(signed, "1.4.3", passes=4)
    assert env_state(signed, "dev") is State.REVERTED

    lines = git(remote, "log", "--all", "--format=%H %cn %s").splitlines()
    ours = [line.split(" ", 2) for line in lines if line.split(" ", 2)[1] == "Hoist"]
    kinds = [subject.split(" ", 2)[1] for _, _, subject in ours]
    for kind in ("promote", "canary", "roll"):  # "roll back": the revert commits
        assert kind in kinds, kinds
    assert len(ours) >= 10  # promotions, merges, canary steps and reverts
    for sha, _, subject in ours:
        verified = key.verify(remote, sha)
        assert verified.returncode == 0, (subject, verified.stderr)
    # The people's commits are not signed, and nothing trusts them.
    people = [line.split(" ", 1)[0] for line in lines if " t " in line]
    assert people and key.verify(remote, people[0]).returncode != 0


@pytest.mark.e2e
def test_the_same_promotion_makes_the_same_signed_commit(signed: Services,
                                                         key: SigningTestKey) -> None:
    base = signed.git.tip("main")
    assert base is not None
    when = time.time()  # the promotion's creation time, as the promote flow passes it
    files = {"apps/guestbook/overlays/dev/kustomization.yaml": "images: []\n"}
    first = signed.git.commit(base, files, "chore(deploy): x\n\nHoist-Promotion: 1\n", when)
    time.sleep(1.1)  # a signature made "now" would differ
    assert signed.git.commit(base, files, "chore(deploy): x\n\nHoist-Promotion: 1\n",
                             when) == first
    assert signed.git.push(first, "hoist/test")
    verified = key.verify(signed.git.url.removeprefix("file://"), first)
    assert verified.returncode == 0, verified.stderr
    if key.format == "openpgp":  # the signature is dated like the commit
        assert f" {int(when)} " in next(line for line in verified.stderr.splitlines()
                                        if "VALIDSIG" in line)


def test_a_wrong_or_missing_key_fails_with_the_reason(tmp_path: Path, private_tmp: Path) -> None:
    ssh = ssh_key(tmp_path / "ssh", passphrase="right")
    cases = [
        (SigningKey(ssh.private, "ssh"), "HOIST_SIGNING_PASSPHRASE is missing"),
        (SigningKey(ssh.private, "ssh", "wrong"), "HOIST_SIGNING_PASSPHRASE is wrong"),
        (SigningKey((ssh.trust.parent / "id_ed25519.pub").read_text(), "ssh"),
         "not an SSH private key"),
        (SigningKey("-----BEGIN PGP PRIVATE KEY BLOCK-----\nnope\n", "openpgp"),
         "not an OpenPGP secret key"),
    ]
    for signing_key, reason in cases:
        with pytest.raises(SigningError, match=reason) as caught:
            CommitSigner(signing_key)
        assert "right" not in str(caught.value)
    assert list(private_tmp.iterdir()) == []  # a refused key leaves nothing behind
    with pytest.raises(SigningError, match="must be ssh or openpgp"):
        key_from_settings("k", None, "x509", None)
    with pytest.raises(SigningError, match="not both"):
        key_from_settings("k", tmp_path / "k", None, None)
    with pytest.raises(SigningError, match="No such file"):
        key_from_settings(None, tmp_path / "missing", None, None)
    with pytest.raises(SigningError, match="no key is"):
        key_from_settings(None, None, None, "pass")
    assert key_from_settings(None, None, None, None) is None
    crlf = key_from_settings(ssh.private.replace("\n", "\r\n").strip(), None, None, "right")
    assert crlf is not None and crlf.text == ssh.private


def test_openpgp_wrong_passphrase_and_nothing_on_disk_between_signatures(
        tmp_path: Path, private_tmp: Path) -> None:
    pgp = openpgp_key(tmp_path / "pgp", passphrase="right")
    for passphrase in ("wrong", None):
        with pytest.raises(SigningError, match="cannot be unlocked"):
            CommitSigner(SigningKey(pgp.private, "openpgp", passphrase))
    signer = CommitSigner(SigningKey(pgp.private, "openpgp", "right"))
    assert len(signer.key_id) == 40  # the fingerprint, logged at start
    assert "BEGIN PGP SIGNATURE" in signer.sign("tree x\n\nmessage\n", time.time())
    assert list(private_tmp.iterdir()) == []  # each signature's GnuPG home is gone again
    signer.close()


def test_a_start_removes_what_a_killed_process_left(tmp_path: Path, private_tmp: Path) -> None:
    dead = subprocess.Popen(["true"])
    dead.wait()
    left = [private_tmp / f"hoist-signing-{dead.pid}-abc123",
            private_tmp / "hoist-signing-x1y2z3_q"]
    live = private_tmp / f"hoist-signing-{os.getpid()}-def456"  # a signature being made now
    for path in (*left, live):
        path.mkdir()
        (path / "key").write_text("secret")
    ssh = ssh_key(tmp_path / "ssh")
    CommitSigner(SigningKey(ssh.private, "ssh")).close()
    assert [p.exists() for p in (*left, live)] == [False, False, True]


def test_serve_refuses_a_bad_key_in_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "HOIST_MANIFESTS_REPO": "file:///nonexistent", "HOIST_INSECURE_DEMO": "1",
           "HOIST_DATA_DIR": str(tmp_path / "data"), "HOIST_SIGNING_KEY": "not a key"}
    done = subprocess.run([sys.executable, "-m", "bot", "serve"], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "hoist: HOIST_SIGNING_KEY is not an SSH private key (for an OpenPGP key set "
        "HOIST_SIGNING_FORMAT=openpgp)"]


def key_material(tmp: Path, key: SigningTestKey) -> list[str]:
    """Files under tmp holding the private key (any line of its armored body), a GnuPG store
    of private keys, or a signing directory: what must not outlive `hoist serve`."""
    body = [line for line in key.private.splitlines()[1:-1] if len(line) > 20]
    found = []
    for path in tmp.rglob("*"):
        if "hoist-signing-" in path.name or path.name == "private-keys-v1.d":
            found.append(str(path))
        elif path.is_file() and not path.is_symlink():
            data = path.read_bytes().decode("latin-1")
            if "PRIVATE KEY" in data or any(line in data for line in body):
                found.append(str(path))
    return found


@pytest.mark.e2e
@pytest.mark.parametrize(("fmt", "stop"), [("ssh", "SIGTERM"), ("ssh", "SIGINT"),
                                           ("ssh", "SIGKILL"), ("openpgp", "SIGTERM"),
                                           ("openpgp", "SIGKILL")])
def test_no_key_material_outlives_serve(tmp_path: Path, private_tmp: Path, fmt: str,
                                        stop: str) -> None:
    make = ssh_key if fmt == "ssh" else openpgp_key
    key = make(tmp_path / "keys", passphrase="correct horse")
    env = {"HOIST_MANIFESTS_REPO": make_manifests_repo(tmp_path / "origin"),
           "HOIST_DATA_DIR": str(tmp_path / "data"), "HOIST_WEBHOOK_SECRET": "s",
           "HOIST_POLL_INTERVAL": "0.2", "HOIST_SIGNING_KEY": key.private,
           "HOIST_SIGNING_FORMAT": fmt, "HOIST_SIGNING_PASSPHRASE": "correct horse",
           "TMPDIR": str(private_tmp)}
    service = ServiceProcess(free_port(), env, tmp_path / "hoist.log")
    service.start()
    try:
        envelope = distribution_envelope("localhost:5000", "acme/guestbook", "1.4.2",
                                         DIGESTS["1.4.2"])
        assert httpx.post(f"{service.url}/webhooks/registry/distribution", json=envelope,
                          headers={"Authorization": "Bearer s"}, timeout=10).status_code == 202
        wait_for(lambda: service.promotion_in("prod", "proposed"), "signed promotion commits")
        assert service.process is not None
        service.process.send_signal(getattr(signal, stop))
        service.wait_dead()
        if stop == "SIGKILL":  # the next start sweeps what a killed one might have left
            service.start()
            service.stop()
    finally:
        service.stop()
    assert key_material(private_tmp, key) == []
    assert "PRIVATE KEY" not in (tmp_path / "hoist.log").read_text()
