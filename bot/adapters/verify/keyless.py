"""Keyless verification with the `sigstore` library (sigstore-python >= 4): a Sigstore
bundle whose Fulcio certificate chains to the trusted root at the time the transparency
log (or a timestamp authority) witnessed it, whose log inclusion is checked, and whose
certificate names the expected identity (SAN) and OIDC issuer.

The trusted root is the library's own copy of Sigstore's production root (read offline,
no TUF refresh at run time), or the file `HOIST_SIGSTORE_TRUSTED_ROOT` names (a
`trusted_root.json`, protobuf-specs TrustedRoot) for air-gapped sites and private
Sigstore instances.
"""

from __future__ import annotations

from cryptography.x509 import (
    Certificate,
    ExtensionNotFound,
    ObjectIdentifier,
    OtherName,
    RFC822Name,
    SubjectAlternativeName,
    UniformResourceIdentifier,
)
from sigstore.errors import Error as SigstoreError
from sigstore.errors import VerificationError
from sigstore.models import Bundle, ClientTrustConfig, TrustedRoot
from sigstore.verify import Verifier
from sigstore.verify.policy import OIDCIssuer

from ...core.verify_config import SignaturePolicy, matches

_SAN_OTHERNAME = ObjectIdentifier("1.3.6.1.4.1.57264.1.7")  # Fulcio's "other name" SAN


class KeylessProblem(ValueError):
    """The bundle is not valid for the policy; the message says why."""


def trusted_root(path: str | None) -> TrustedRoot:
    """The trusted root from `path`, or the library's production root (offline);
    KeylessProblem when the file cannot be read."""
    try:
        if path:
            return TrustedRoot.from_file(path)
        return ClientTrustConfig.production(offline=True).trusted_root
    except (OSError, ValueError, SigstoreError) as exc:
        raise KeylessProblem(f"cannot read the Sigstore trusted root: {exc}") from None


def identities(certificate: Certificate) -> list[str]:
    """The certificate's SAN values: e-mail addresses, URIs and Fulcio's other names."""
    try:
        san = certificate.extensions.get_extension_for_class(SubjectAlternativeName).value
    except ExtensionNotFound:
        return []
    found = [*san.get_values_for_type(RFC822Name),
             *san.get_values_for_type(UniformResourceIdentifier)]
    found += [o.value.decode(errors="replace") for o in san.get_values_for_type(OtherName)
              if o.type_id == _SAN_OTHERNAME]
    return found


class _IdentityPolicy:
    """The issuer exactly, and an identity exactly or by ^regex$ (sigstore's Identity
    policy takes exact identities only)."""

    def __init__(self, policy: SignaturePolicy) -> None:
        assert policy.identity is not None and policy.issuer is not None
        self.identity, self.issuer = policy.identity, policy.issuer

    def verify(self, cert: Certificate) -> None:
        OIDCIssuer(self.issuer).verify(cert)
        named = identities(cert)
        if not any(matches(self.identity, value) for value in named):
            raise VerificationError(f"signed by {', '.join(named) or 'nobody named'}, not "
                                    f"{self.identity}")


class KeylessVerifier:
    """Verifies Sigstore bundles against one trusted root."""

    def __init__(self, root_path: str | None = None) -> None:
        try:
            self.verifier = Verifier(trusted_root=trusted_root(root_path))
        except (SigstoreError, ValueError) as exc:
            raise KeylessProblem(f"the Sigstore trusted root is not usable: {_said(exc)}") \
                from None

    def verify(self, bundle_json: bytes, policy: SignaturePolicy,
               artifact: bytes | None = None) -> tuple[str, bytes, str]:
        """Verify the bundle; returns (payload type, payload, signer identity). For a DSSE
        bundle `artifact` is None and the payload is the envelope's; for a message
        signature the payload is `artifact`. KeylessProblem says why it fails."""
        try:
            bundle = Bundle.from_json(bundle_json)
        except (ValueError, SigstoreError) as exc:
            raise KeylessProblem(f"not a Sigstore bundle: {exc}") from None
        check = _IdentityPolicy(policy)
        try:
            if artifact is None:
                kind, payload = self.verifier.verify_dsse(bundle, check)
            else:
                self.verifier.verify_artifact(artifact, bundle, check)
                kind, payload = "", artifact
        except (SigstoreError, ValueError) as exc:
            raise KeylessProblem(_said(exc)) from None
        return kind, payload, ", ".join(identities(bundle.signing_certificate))


def _said(exc: Exception) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:300]
