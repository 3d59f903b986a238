"""Registry webhook sources, by the name used in routes and `hoist parse-event`."""

from __future__ import annotations

from .base import AuthError, PayloadError, Source, lower_headers
from .cloud import AcrSource, EcrSource, GarSource, JwtVerifier, sns_confirmation_url
from .distribution import DistributionSource, GitLabSource
from .generic import GenericSource
from .ghcr import GhcrSource
from .vendors import ArtifactorySource, DockerHubSource, HarborSource, QuaySource


def build_sources(gar_jwt_verifier: JwtVerifier | None = None) -> dict[str, Source]:
    """Every source by name; Artifact Registry verifies Pub/Sub JWTs when given a verifier."""
    sources: list[Source] = [
        DistributionSource(), DockerHubSource(), HarborSource(), QuaySource(), GhcrSource(),
        GitLabSource(), EcrSource(), AcrSource(), GarSource(gar_jwt_verifier),
        ArtifactorySource(), GenericSource(),
    ]
    return {s.name: s for s in sources}


SOURCES = build_sources()

__all__ = ["SOURCES", "AuthError", "PayloadError", "Source", "build_sources", "lower_headers",
           "sns_confirmation_url"]
