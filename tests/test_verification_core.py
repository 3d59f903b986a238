"""The pure rules of issue 27 (bot/core/verification.py, verify_config.py): DSSE's PAE,
SLSA provenance v0.2 and v1 as published, decisions, trailers, and hoist.yaml errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.core.config import ConfigError, load_config
from bot.core.verification import (
    Finding,
    bare_source,
    decide,
    pae,
    provenance_facts,
    provenance_problem,
    with_verified_trailer,
)
from bot.core.verify_config import ProvenancePolicy, verify_of

DATA = Path(__file__).resolve().parent / "data" / "verify"


def test_pae_matches_the_dsse_protocol_example() -> None:
    # DSSE protocol.md, "Test case": PAE of "http://example.com/HelloWorld", "hello world".
    assert pae("http://example.com/HelloWorld", b"hello world") == \
        b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"


def _statement(version: str) -> dict[str, object]:
    predicate = json.loads((DATA / f"slsa_predicate_v{version}.json").read_text())
    kind = "https://slsa.dev/provenance/" + ("v0.2" if version == "0_2" else "v1")
    return {"_type": "https://in-toto.io/Statement/v1", "predicateType": kind,
            "subject": [], "predicate": predicate}


def test_published_slsa_predicates_are_read() -> None:
    v1 = provenance_facts(_statement("1_0"))
    assert v1 is not None
    builder, source, ref = v1
    assert (source, ref) == ("https://github.com/octo-org/octo-repo", "refs/tags/1.21.0")
    assert builder  # runDetails.builder.id
    v02 = provenance_facts(_statement("0_2"))
    assert v02 is not None and v02[0]  # builder.id
    assert provenance_problem(v1, ProvenancePolicy(source="github.com/octo-org/octo-repo",
                                                   ref="refs/tags/1.21.0")) is None
    assert provenance_problem(v1, ProvenancePolicy(ref="refs/heads/main")) == \
        "built from refs/tags/1.21.0, not refs/heads/main"
    assert provenance_problem(v1, ProvenancePolicy(source="github.com/acme/app")) == \
        "built from github.com/octo-org/octo-repo, not github.com/acme/app"
    assert bare_source("git+https://github.com/acme/app.git") == "github.com/acme/app"


def test_decisions_and_the_trailer() -> None:
    verified = Finding("signature", "verified", "key=SHA256:abc")
    missing = Finding("provenance", "missing", "no SLSA provenance attestation of sha256:1")
    invalid = Finding("signature", "invalid", "the signature is for digest sha256:2, not sha256:1")
    assert decide([verified]).action == "go"
    assert decide([verified, missing]).action == "hold"
    assert decide([missing, invalid]).reason == "signature: the signature is for digest " \
                                                "sha256:2, not sha256:1"
    assert decide([]).verified == ""
    message = with_verified_trailer("chore(deploy): x\n\nHoist-Promotion: 1\n",
                                    decide([verified, Finding("provenance", "verified",
                                                              "builder=https://ci")]).verified)
    assert message.endswith("Hoist-Promotion: 1\nHoist-Verified: signature key=SHA256:abc; "
                            "provenance builder=https://ci\n")


BASE = """images:
  web: {repository: ghcr.io/acme/web, verify: {signature: {key: keys/web.pub}}}
  api: {repository: ghcr.io/acme/api}
environments:
  - name: dev
    targets: [{file: a.yaml, image: web}]
  - name: prod
    after: dev
    requires: {attestation: %s}
    targets: [{file: b.yaml, image: web}]
"""


def test_verify_blocks_and_requires_in_hoist_yaml() -> None:
    config = load_config("verify: {signature: {identity: a@b.c, issuer: https://issuer.example}}\n"
                         + BASE % "dev")
    own, default = verify_of(config, config.images["web"]), verify_of(config, config.images["api"])
    assert own is not None and own.signature is not None and own.signature.key == "keys/web.pub"
    assert default is not None and default.signature is not None
    assert default.signature.issuer == "https://issuer.example"
    with pytest.raises(ConfigError) as caught:
        load_config(BASE % "prod", "hoist.yaml")
    assert caught.value.problems == [
        "hoist.yaml:9: environments[1].requires.attestation: 'prod' is not an environment "
        "listed before 'prod'"]
    with pytest.raises(ConfigError) as both:
        load_config("verify: {signature: {key: k.pub, identity: a@b.c, issuer: https://i.example}}\n"
                    + BASE % "dev", "hoist.yaml")
    assert both.value.problems[0].startswith("hoist.yaml:1: verify.signature: ")
    assert "not both" in both.value.problems[0]
    with pytest.raises(ConfigError) as pattern:  # said by `hoist check`, not at the first push
        load_config("verify: {signature: {key: k.pub}, provenance: {builder: '^($'}}\n"
                    + BASE % "dev", "hoist.yaml")
    assert pattern.value.problems[0].startswith(
        "hoist.yaml:1: verify.provenance.builder: invalid regex '^($'")
