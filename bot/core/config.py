"""The hoist.yaml model and its validation, with errors that name file, line and field."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from .durations import Duration
from .images import InvalidReference, validate_name
from .patterns import compile_pattern
from .render_config import KUBERNETES_VERSION, Render
from .rollout_config import Canary, FreezeWindow, Sync, _Model
from .trains import Train, train_problems
from .verify_config import Requires, Verify, verify_problems
from .versions import VersionError, parse_range
from .window_config import Windows
from .yaml_lines import FieldProblem as _FieldProblem
from .yaml_lines import load_model

Pin = Literal["tag", "tag@digest", "@digest"]


class ConfigError(ValueError):
    """hoist.yaml is invalid; each problem is one 'file:line: field: message' line."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems



MUTABLE_TAGS = ("latest", "main", "master", "stable", "edge", "nightly", "dev", "develop")


class TagPolicy(_Model):
    """Which pushed tags may be promoted and how they are ordered.

    `semver` is a range (core/versions.py: strict SemVer 2.0.0, node-semver range syntax);
    `sort` is `semver` (precedence, semver.org §11), `numeric` (the regex's sort key),
    `alphabetical`, or `pushed` (the latest push wins; no downgrade check: commit-SHA tags
    have no order of their own). `prerelease` unset refuses SemVer prereleases unless a
    `regex` is given (the regex is then the allow-list: `-rc` or `-snapshot-<sha>` tags it
    admits are the releases); an explicit `prerelease: false` refuses them under every
    ordering, regex or not.
    """

    semver: str | None = None
    prerelease: bool | None = None
    regex: str | None = None  # allow only tags matching it; one group (or `key`) is the sort key
    ignore: list[str] = []  # tags matching any of these are never promoted
    sort: Literal["semver", "numeric", "alphabetical", "pushed"] | None = None
    allow_downgrade: bool = False
    mutable: list[str] = list(MUTABLE_TAGS)  # refused unless pinned by digest

    @field_validator("semver")
    @classmethod
    def _range(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                parse_range(value)
            except VersionError as exc:
                raise ValueError(str(exc)) from None
        return value

    @field_validator("regex")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value is not None:
            pattern = compile_pattern(value)
            if pattern.groups > 1 and "key" not in pattern.groupindex:
                raise ValueError(
                    f"{value!r} has {pattern.groups} capturing groups: name the one that sorts "
                    "(?P<key>...), or make the others non-capturing (?:...)")
        return value

    @field_validator("ignore")
    @classmethod
    def _ignore(cls, value: list[str]) -> list[str]:
        for pattern in value:
            compile_pattern(pattern)
        return value

    @property
    def refuses_prereleases(self) -> bool:
        """True when SemVer prereleases (semver.org §9) are refused: `prerelease: false`,
        or unset without a `regex`."""
        return self.prerelease is False or (self.prerelease is None and self.regex is None)

    @property
    def order(self) -> str:
        """How tags are compared: the explicit `sort`, else semver when a range is set,
        numeric when the regex captures a sort key, alphabetical otherwise."""
        if self.sort:
            return self.sort
        if self.semver is not None:
            return "semver"
        return "numeric" if self.regex and compile_pattern(self.regex).groups else "alphabetical"


class ImageConfig(_Model):
    repository: str  # matched by normalized name (nginx = docker.io/library/nginx)
    tags: TagPolicy = TagPolicy()
    pin: Pin = "tag"  # what is written; `digest` is short for tag@digest
    platforms: list[str] = []  # each pushed image must offer these, e.g. linux/amd64
    coalesce: Duration = 0.0  # seconds a burst of pushes may take; the newest allowed wins
    poll: Duration | None = Field(default=None, gt=0)  # list tags this often (flows/poll.py)
    min_age: Duration | None = Field(default=None, ge=0)  # seconds since the push (maturity.py)
    verify: Verify | None = None  # signatures and provenance (verify_config.py)

    @field_validator("platforms")
    @classmethod
    def _platforms(cls, value: list[str]) -> list[str]:
        for platform in value:
            if not re.fullmatch(r"[a-z0-9]+/[a-z0-9_]+(/[a-z0-9]+)?", platform):
                raise ValueError(f"{platform!r} is not os/arch[/variant]")
        return value

    @field_validator("repository")
    @classmethod
    def _valid_repository(cls, value: str) -> str:
        try:
            validate_name(value)
        except InvalidReference as exc:
            raise ValueError(str(exc)) from None
        return value

    @field_validator("pin", mode="before")
    @classmethod
    def _pin_alias(cls, value: Any) -> Any:
        # DESIGN.md spells tag@digest as `digest`.
        return "tag@digest" if value == "digest" else value


class Target(_Model):
    """A file (or, ending in '/', every YAML file under a directory) holding an image;
    `path` names a value no detector finds, like `backend.image.tag`."""

    file: str  # relative to the repository root; ending in / means every YAML file below
    image: str  # a key of `images`
    path: str | None = None  # a dotted path to a value no detector recognises
    render: Render | None = None  # which renderer shows the change (render_config.py)

    @field_validator("file")
    @classmethod
    def _relative(cls, value: str) -> str:
        parts = value.split("/")
        if value.startswith("/") or ".." in parts or not value:
            raise ValueError("must be a path relative to the repository root, without '..'")
        return value

    @property
    def is_directory(self) -> bool:
        """True when the target names a directory (every YAML file below it)."""
        return self.file.endswith("/")


Permission = Literal["read", "triage", "write", "maintain", "admin"]


class Approval(_Model):
    """Who must approve: `required` distinct people with at least `permission` on the
    manifests repository, or listed in `users`/`teams`; `reviews: true` also counts
    approving pull-request reviews."""

    required: int = Field(default=1, ge=0, le=20)
    permission: Permission = "write"
    users: list[str] = []  # forge logins whose approval counts whatever their permission
    teams: list[str] = []  # org/team-slug
    reviews: bool = False  # approving reviews on the forge count too


class Environment(_Model):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")
    branch: str = "main"  # the branch Argo CD / Flux syncs
    approval: Approval = Approval(required=0)  # also `none` (no gate) or `manual` (one writer)
    after: str | None = None  # starts once that environment is promoted (and soaked)
    targets: list[Target] = Field(min_length=1)
    merge_method: Literal["squash", "merge", "rebase"] = "squash"  # squash: trailers land on `branch`
    soak: Duration = 0.0  # how long it runs healthy before the next environment starts
    canary: Canary | None = None
    on_failure: Literal["revert", "hold"] = "revert"  # when readings show the image bad
    # When analysis cannot tell (outages, no data): hold at the step, or revert in git
    # without quarantining the digest (no reading showed it bad).
    on_inconclusive: Literal["hold", "revert"] = "hold"
    freeze: list[FreezeWindow] = []
    windows: Windows | None = None  # when promotions may merge (window_config.py)
    min_age: Duration | None = Field(default=None, ge=0)  # seconds since the push; images may set their own
    sync: Sync | None = None
    kubernetes: str | None = Field(default=None, pattern=KUBERNETES_VERSION)  # schemas
    requires: Requires | None = None  # attestations a digest must carry (verify_config.py)

    @field_validator("approval", mode="before")
    @classmethod
    def _approval(cls, value: Any) -> Any:
        # `none` and `manual` are shorthands for no gate and one writer.
        if value == "none":
            return {"required": 0}
        if value == "manual":
            return {"required": 1}
        if isinstance(value, str):
            raise ValueError("must be none, manual, or {required, permission, users, teams}")
        return value

    @property
    def gated(self) -> bool:
        """True when a person must approve before merging."""
        return self.approval.required > 0


class Config(_Model):
    images: dict[str, ImageConfig] = Field(min_length=1)
    environments: list[Environment] = Field(min_length=1)
    trains: dict[str, Train] = {}
    verify: Verify | None = None  # the default for every image (verify_config.py)

    @model_validator(mode="after")
    def _references(self) -> Config:
        names = [env.name for env in self.environments]
        for i, env in enumerate(self.environments):
            if env.name in names[:i]:
                raise _FieldProblem(("environments", i, "name"), f"duplicate environment {env.name!r}")
            if env.after is not None and env.after not in names:
                raise _FieldProblem(("environments", i, "after"), f"unknown environment {env.after!r}")
            if env.after == env.name:
                raise _FieldProblem(("environments", i, "after"), "an environment cannot follow itself")
            for j, target in enumerate(env.targets):
                if target.image not in self.images:
                    raise _FieldProblem(
                        ("environments", i, "targets", j, "image"), f"unknown image {target.image!r}"
                    )
        for loc, message in (train_problems(self.trains, list(self.images)) + verify_problems(self))[:1]:
            raise _FieldProblem(loc, message)
        return self

    def train_of(self, image_key: str) -> str | None:
        """The name of the train image_key travels in, if any."""
        for name, train in self.trains.items():
            if image_key in train.members(self.images):
                return name
        return None

    def train_members(self, name: str) -> list[str]:
        """The image keys of train `name`; KeyError if there is no such train."""
        return self.trains[name].members(self.images)

    def environment(self, name: str) -> Environment:
        """The environment called name; KeyError if there is none."""
        for env in self.environments:
            if env.name == name:
                return env
        raise KeyError(name)


def load_config(text: str, filename: str = "hoist.yaml") -> Config:
    """Parse and validate hoist.yaml text; raise ConfigError listing every problem."""
    return load_model(Config, text, filename, ConfigError)
