"""Signatures, provenance and attestations: registry discovery, keys, Sigstore, signing."""
