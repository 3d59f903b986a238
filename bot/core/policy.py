"""Which images a push concerns and which environments it moves (tag rules: core/tags.py)."""

from __future__ import annotations

from .config import Config, Environment, Target
from .events import ImagePushed
from .images import same_repository


def matching_images(config: Config, pushed: ImagePushed) -> list[str]:
    """Keys of the configured images whose repository is the pushed one."""
    return [
        key
        for key, image in config.images.items()
        if same_repository(image.repository, pushed.image_name)
    ]


def targets_for(env: Environment, image_key: str) -> list[Target]:
    """Targets of env that hold image_key."""
    return [t for t in env.targets if t.image == image_key]


def first_environments(config: Config, image_keys: list[str]) -> list[Environment]:
    """Environments a fresh push starts in: those that follow nothing and hold any of the
    images (one image, or the members of a train that moved)."""
    return [e for e in config.environments if e.after is None and
            any(targets_for(e, key) for key in image_keys)]


def next_environments(config: Config, done: str, image_keys: list[str]) -> list[Environment]:
    """Environments that start once `done` is promoted for the images: those that follow
    it and hold any of them."""
    return [e for e in config.environments if e.after == done and
            any(targets_for(e, key) for key in image_keys)]
