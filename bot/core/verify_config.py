"""hoist.yaml's `verify:` block (per image, and at the top level as the default for every
image) and an environment's `requires:`.

```yaml
verify:                                   # the default for every image
  signature: {key: keys/cosign.pub}       # a PEM public key, inline or a file in the repo
images:
  web:
    repository: ghcr.io/acme/web
    verify:
      signature:
        identity: "^https://github.com/acme/web/.*$"
        issuer: https://token.actions.githubusercontent.com
      provenance: {builder: "^https://github.com/.*$", source: github.com/acme/web, ref: refs/heads/main}
environments:
  - name: prod
    requires: {attestation: staging}      # a valid Hoist promotion attestation for staging
```

A `signature` names either a `key` (cosign's key-based signatures; ECDSA P-256, the
cosign signature spec's required scheme) or an `identity` and an `issuer` (keyless:
Sigstore's Fulcio certificate's SAN and its OIDC issuer extension, 1.3.6.1.4.1.57264.1.8).
An `identity` written between `^` and `$` is a regular expression (RE2); otherwise it
must match exactly. `provenance` checks a signed SLSA provenance (in-toto Statement with a
`https://slsa.dev/provenance/v0.2` or `/v1` predicate), its signature checked with the
same `signature` settings.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from pydantic import Field, field_validator, model_validator

from .patterns import compile_pattern
from .rollout_config import _Model

if TYPE_CHECKING:
    from .config import Config, ImageConfig

PEM_HEAD = "-----BEGIN"


class SignaturePolicy(_Model):
    """Whose signature the pushed digest must carry: a `key`, or an `identity` + `issuer`."""

    key: str | None = None  # PEM text, or a path in the manifests repository
    identity: str | None = None  # exact, or ^regex$ (RE2)
    issuer: str | None = None  # the OIDC issuer URL, exact

    @field_validator("key")
    @classmethod
    def _key(cls, value: str | None) -> str | None:
        if value is not None and not value.strip().startswith(PEM_HEAD):
            parts = value.split("/")
            if value.startswith("/") or ".." in parts or not value.strip():
                raise ValueError("a key is PEM text or a path relative to the repository root")
        return value

    @field_validator("identity")
    @classmethod
    def _identity(cls, value: str | None) -> str | None:
        if value is not None and is_pattern(value):
            compile_pattern(value)
        return value

    @field_validator("issuer")
    @classmethod
    def _issuer(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"https://[^/\s]+(/\S*)?", value):
            raise ValueError(f"{value!r} is not an https:// OIDC issuer URL")
        return value

    @model_validator(mode="after")
    def _one_way(self) -> SignaturePolicy:
        keyless = self.identity is not None or self.issuer is not None
        if self.key is not None and keyless:
            raise ValueError("give a key, or an identity and an issuer, not both")
        if self.key is None and not (self.identity and self.issuer):
            raise ValueError("keyless verification needs both identity and issuer")
        return self

    @property
    def is_inline_key(self) -> bool:
        """True when `key` holds PEM text rather than a file's path."""
        return self.key is not None and self.key.strip().startswith(PEM_HEAD)


class ProvenancePolicy(_Model):
    """What a SLSA provenance attestation on the digest must say (each field optional)."""

    builder: str | None = None  # builder.id (v0.2) / runDetails.builder.id (v1); exact or ^regex$
    source: str | None = None  # e.g. github.com/acme/app: the source repository, any scheme
    ref: str | None = None  # e.g. refs/heads/main

    @field_validator("builder", "source", "ref")
    @classmethod
    def _pattern(cls, value: str | None) -> str | None:
        if value is not None and is_pattern(value):
            compile_pattern(value)  # a bad ^…$ is said here, not at the first push
        return value


class Verify(_Model):
    """The `verify:` block: a signature and/or a provenance attestation must be present."""

    signature: SignaturePolicy | None = None
    provenance: ProvenancePolicy | None = None

    @model_validator(mode="after")
    def _signed(self) -> Verify:
        if self.provenance is not None and self.signature is None:
            raise ValueError("provenance is checked with the signature's key or identity: "
                             "give `signature` too")
        return self


class Requires(_Model):
    """What a digest must carry before this environment takes it."""

    attestation: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")


def is_pattern(text: str) -> bool:
    """True when an identity or builder is written as a ^…$ regular expression."""
    return text.startswith("^") and text.endswith("$") and len(text) > 1


def matches(expected: str, actual: str) -> bool:
    """`actual` equals `expected`, or matches it in full when it is a ^…$ pattern."""
    if is_pattern(expected):
        return compile_pattern(expected).fullmatch(actual) is not None
    return expected == actual


def verify_of(config: Config, image: ImageConfig) -> Verify | None:
    """The image's own `verify:` block, else the top-level default, else None."""
    return image.verify if image.verify is not None else config.verify


def verify_problems(config: Config) -> list[tuple[tuple[str | int, ...], str]]:
    """(location, message) for each `requires.attestation` naming no earlier environment."""
    names = [env.name for env in config.environments]
    problems: list[tuple[tuple[str | int, ...], str]] = []
    for i, env in enumerate(config.environments):
        wanted = env.requires.attestation if env.requires else None
        if wanted is not None and wanted not in names[:i]:
            problems.append((("environments", i, "requires", "attestation"),
                             f"{wanted!r} is not an environment listed before {env.name!r}"))
    return problems
