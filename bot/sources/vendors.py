"""Registries that post one JSON object per push: Docker Hub, Harbor, Quay, Artifactory."""

from __future__ import annotations

from urllib.parse import urlparse

from ..core.events import ImagePushed
from .base import (
    AuthError,
    Headers,
    PayloadError,
    body_id,
    check_signature,
    check_token,
    json_object,
    split_reference,
    text,
)


class DockerHubSource:
    """Docker Hub: `push_data.tag` + `repository.repo_name`; no digest, no signature (the
    token can only travel in the URL: `?token=`)."""

    name = "dockerhub"

    def verify(self, headers: Headers, body: bytes, secret: str) -> None:
        check_token(headers, secret)

    def parse(self, headers: Headers, body: bytes) -> list[ImagePushed]:
        data = json_object(body)
        repository, tag = text(data, "repository", "repo_name"), text(data, "push_data", "tag")
        if repository is None:
            raise PayloadError("expected repository.repo_name")
        if tag is None:
            return []
        return [ImagePushed(self.name, body_id(body), "docker.io", repository, tag, None)]


class HarborSource:
    """Harbor: the Default JSON (`type: PUSH_ARTIFACT`) and CloudEvents
    (`type: harbor.artifact.pushed`) formats; Harbor sends the configured auth header."""

    name = "harbor"

    def verify(self, headers: Headers, body: bytes, secret: str) -> None:
        check_token(headers, secret, "authorization")

    def parse(self, headers: Headers, body: bytes) -> list[ImagePushed]:
        data = json_object(body)
        kind = data.get("type")
        if kind == "PUSH_ARTIFACT":
            payload, event_id = data.get("event_data"), body_id(body)
        elif kind == "harbor.artifact.pushed":
            payload, event_id = data.get("data"), text(data, "id") or body_id(body)
        elif isinstance(kind, str):
            return []  # another Harbor event: scans, deletes, quotas
        else:
            raise PayloadError("expected a Harbor event with a 'type'")
        if not isinstance(payload, dict) or not isinstance(payload.get("resources"), list):
            raise PayloadError("expected resources in the Harbor event data")
        pushes = []
        for i, resource in enumerate(payload["resources"]):
            url = text(resource, "resource_url") if isinstance(resource, dict) else None
            if url is None:
                continue
            registry, repository, _, _ = split_reference(url)
            tag, digest = text(resource, "tag"), text(resource, "digest")
            if tag is not None and tag == digest:
                tag = None  # a push by digest: Harbor repeats the digest as the tag
            pushes.append(ImagePushed(self.name, f"{event_id}/{i}", registry,
                                      text(payload, "repository", "repo_full_name") or repository,
                                      tag, digest))
        return pushes


class QuaySource:
    """Quay `repo_push`: `docker_url` and `updated_tags`; no digest, no signature."""

    name = "quay"

    def verify(self, headers: Headers, body: bytes, secret: str) -> None:
        check_token(headers, secret)

    def parse(self, headers: Headers, body: bytes) -> list[ImagePushed]:
        data = json_object(body)
        url, tags = text(data, "docker_url"), data.get("updated_tags")
        if url is None or not isinstance(tags, list):
            raise PayloadError("expected docker_url and updated_tags")
        registry, repository, _, _ = split_reference(url)
        event = body_id(body)
        return [ImagePushed(self.name, f"{event}/{tag}", registry, repository, tag, None)
                for tag in tags if isinstance(tag, str) and tag]




class ArtifactorySource:
    """JFrog Artifactory `docker`/`pushed` events. The image is addressed the repository-path
    way: `<platform host>/<repo_key>/<image_name>`. JFrog sends the webhook's secret in
    `X-JFrog-Event-Auth`, or, with payload signing, an HMAC-SHA256 of the body there."""

    name = "artifactory"

    def verify(self, headers: Headers, body: bytes, secret: str) -> None:
        try:
            check_signature(headers, body, secret, "x-jfrog-event-auth", prefix="")
        except AuthError:
            check_token(headers, secret, "x-jfrog-event-auth")

    def parse(self, headers: Headers, body: bytes) -> list[ImagePushed]:
        data = json_object(body)
        if data.get("domain") != "docker":
            return []
        if data.get("event_type") != "pushed":
            return []
        image, repo_key, tag = (text(data, "data", "image_name"), text(data, "data", "repo_key"),
                                text(data, "data", "tag"))
        if image is None or repo_key is None:
            raise PayloadError("expected data.image_name and data.repo_key")
        origin = text(data, "jpd_origin")
        registry = urlparse(origin).netloc or None if origin else None
        sha = text(data, "data", "sha256")
        return [ImagePushed(self.name, body_id(body), registry, f"{repo_key}/{image}", tag,
                            f"sha256:{sha}" if sha else None)]
