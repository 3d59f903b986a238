"""Docker Hub repository webhooks."""

from __future__ import annotations

from ..core.events import ImagePushed
from .base import Headers, PayloadError, body_id, check_token, epoch, json_object, text


class DockerHubSource:
    """`{"push_data": {"tag", "pushed_at", "pusher", "images"?, "media_type"?},
    "repository": {"repo_name", …}, "callback_url"}` (Docker's "Webhooks" page; the same
    shape since the 2014 examples). No digest and no signature: the token can only travel in
    the URL (`?token=`)."""

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
        return [ImagePushed(self.name, body_id(body), "docker.io", repository, tag, None,
                            epoch(data, "push_data", "pushed_at"))]
