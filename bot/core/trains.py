"""Release trains in hoist.yaml: images that travel together, and the rules a set of trains
must follow (pure)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Literal

from pydantic import Field, field_validator

from .durations import Duration
from .rollout_config import _Model

TRAIN_NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$"


class Train(_Model):
    """`images` are image keys of hoist.yaml, or `"*"` for every image; pushes of members
    received within `window` seconds of the first one travel as one promotion."""

    images: list[str] | Literal["*"] = Field(min_length=1)
    window: Duration = Field(default=30.0, ge=0, le=3600)

    @field_validator("images", mode="before")
    @classmethod
    def _star(cls, value: object) -> object:
        # `images: ["*"]` reads as naturally as `images: "*"`.
        return "*" if value == ["*"] else value

    def members(self, image_keys: Iterable[str]) -> list[str]:
        """The image keys of this train, in hoist.yaml's order for "*"."""
        return list(image_keys) if self.images == "*" else list(self.images)


def lane(name: str) -> str:
    """The branch-safe form of an image key or train name: the last part of its branch
    `hoist/<env>/<lane>`."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.") or "image"


def train_problems(trains: Mapping[str, Train],
                   image_keys: list[str]) -> list[tuple[tuple[str | int, ...], str]]:
    """(location, message) for every rule the trains break: a name that is not branch-safe
    or that shares its branch with an image's, an unknown image, an image in two trains
    (naming both)."""
    problems: list[tuple[tuple[str | int, ...], str]] = []
    lanes = {lane(key): key for key in image_keys}
    owner: dict[str, str] = {}
    for name, train in trains.items():
        if not re.match(TRAIN_NAME, name):
            problems.append((("trains", name), f"train name {name!r} must match {TRAIN_NAME}"))
        elif lane(name) in lanes:
            problems.append((("trains", name),
                             f"train {name!r} and image {lanes[lane(name)]!r} would share the "
                             f"branch hoist/<env>/{lane(name)}: rename the train"))
        star = train.images == "*"
        for i, key in enumerate(train.members(image_keys)):
            loc: tuple[str | int, ...] = ("trains", name, "images") if star else \
                ("trains", name, "images", i)
            if key not in image_keys:
                problems.append((loc, f"unknown image {key!r}"))
            elif key in owner and owner[key] != name:
                problems.append((loc, f"image {key!r} is in train {owner[key]!r} and in train "
                                      f"{name!r}: an image belongs to at most one train"))
                if star:
                    break  # one line says it; not one per image
            else:
                owner[key] = name
    return problems
