"""What `hoist init` found and guessed: images, environments, targets (pure data)."""

from __future__ import annotations

from dataclasses import dataclass

from .tag_guess import TagGuess


@dataclass(frozen=True)
class ImagePlan:
    """One image: its hoist.yaml key, repository as most often written, guessed policy,
    pin and why that pin (None for the default `tag`)."""

    key: str
    repository: str
    tags: TagGuess
    pin: str
    pin_note: str | None


@dataclass(frozen=True)
class Target:
    """A target: a file, or a directory ending in '/' (every YAML file below it)."""

    file: str
    image: str  # an ImagePlan key


@dataclass(frozen=True)
class EnvPlan:
    """One environment: `after` the previous one in order, gated when prod-like; `notes`
    are its own guesses (a `prod-canary/` directory counted as prod)."""

    name: str
    after: str | None
    gated: bool
    targets: tuple[Target, ...]
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Scaffold:
    """The whole guess.

    shared: (file, repository) references outside any environment (base/, a chart's
    values.yaml), not targets. unplaced: repositories found only there (no image entry).
    layout: every environment the layout names, in order; empty: those of them with no
    reference of their own. whole_repo: True when no environment holds a reference, so
    one environment (`default`) covers every file. guesses: each `guessed:` comment.
    """

    images: tuple[ImagePlan, ...]
    environments: tuple[EnvPlan, ...]
    shared: tuple[tuple[str, str], ...]
    unplaced: tuple[str, ...]
    layout: tuple[str, ...]
    empty: tuple[str, ...]
    whole_repo: bool
    guesses: tuple[str, ...]


def whole_repo_note(layout: tuple[str, ...]) -> str:
    """Why one environment covers the whole repository."""
    if layout:
        return (f"one environment for the whole repository: {', '.join(layout)} hold no image "
                "reference of their own (a change to a shared file reaches them all)")
    return ("one environment for the whole repository: no file or directory is named for an "
            "environment (dev, staging, prod, …)")
