"""Registry webhook sources, by the name used in routes and `hoist parse-event`: one module
per registry format, each with verify(headers, body, secret) and parse(headers, body)."""

from __future__ import annotations

from .acr import AcrSource
from .artifactory import ArtifactorySource
from .base import AuthError, PayloadError, Source, lower_headers
from .distribution import DistributionSource, GitLabSource
from .dockerhub import DockerHubSource
from .ecr import EcrSource, sns_confirmation_url
from .gar import GarSource, JwtVerifier
from .generic import GenericSource
from .ghcr import GhcrSource
from .harbor import HarborSource
from .quay import QuaySource


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
