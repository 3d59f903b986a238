"""Group image references into images and environments (pure): the inference behind
`hoist init`."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence

from ..images import InvalidReference, normalize_name
from .envs import EnvHint, env_of_path, is_prod_like, order
from .model import EnvPlan, ImagePlan, Scaffold, Target, whole_repo_note
from .refs import Reference
from .tag_guess import guess_pin, guess_tags

WHOLE_REPO = "default"  # the one environment of a repository without per-environment files


class NothingFound(ValueError):
    """The repository holds no image reference at all."""


def _normal(name: str) -> str:
    try:
        return normalize_name(name)
    except InvalidReference:
        return name


def image_keys(repositories: Sequence[str]) -> dict[str, str]:
    """A short, unique hoist.yaml key per repository: its last path component
    (`ghcr.io/acme/guestbook` → guestbook), with the one before it when two collide
    (`acme-redis`, `library-redis`), numbered if they still do."""
    def key(repo: str, parts: int) -> str:
        words = repo.lower().split("/")[-parts:]
        return re.sub(r"[^a-z0-9]+", "-", "-".join(words)).strip("-") or "image"

    short = Counter(key(r, 1) for r in repositories)
    keys: dict[str, str] = {}
    for repo in repositories:
        wanted = key(repo, 1) if short[key(repo, 1)] == 1 else key(repo, 2)
        candidate, n = wanted, 2
        while candidate in keys.values():
            candidate, n = f"{wanted}-{n}", n + 1
        keys[repo] = candidate
    return keys


def scaffold(references: Iterable[Reference], paths: Iterable[str] = ()) -> Scaffold:
    """Images, environments and targets from every reference of a repository; `paths`
    (every YAML file) adds the environments the layout names without references.
    Raises NothingFound when there is no reference."""
    refs = _one_environment_per_file(list(references))
    if not refs:
        raise NothingFound("no image references found")
    layout = order(h.env for p in paths if (h := env_of_path(p)) is not None)
    placed = [r for r in refs if r.hint is not None]
    whole_repo = not placed
    if whole_repo:  # one environment for the whole repository
        placed = [_in_whole_repo(r) for r in refs]
    envs = order([*(r.hint.env for r in placed if r.hint), *layout])
    in_envs = {_normal(r.name) for r in placed}
    spelled = _spellings(r for r in refs if _normal(r.name) in in_envs)
    keys = image_keys(sorted(spelled.values(), key=lambda s: (s.rsplit("/", 1)[-1], s)))
    key_of = {norm: keys[repo] for norm, repo in spelled.items()}
    images = tuple(sorted((_image(key_of[n], spelled[n], [r for r in refs if _normal(r.name) == n])
                           for n in spelled), key=lambda i: i.key))
    env_plans = _environments([e for e in envs if any(r.hint and r.hint.env == e for r in placed)],
                              placed, key_of)
    shared = tuple(sorted({(r.file, r.name) for r in refs if r.hint is None and not whole_repo}))
    unplaced = tuple(sorted({r.name for r in refs if _normal(r.name) not in in_envs}))
    empty = tuple(e for e in layout if e not in {p.name for p in env_plans})
    return Scaffold(images, env_plans, shared, unplaced, tuple(layout), empty, whole_repo,
                    _guesses(images, env_plans, tuple(layout) if whole_repo else None))


def _one_environment_per_file(refs: list[Reference]) -> list[Reference]:
    """References to an image in a file that also holds it for another environment (two
    Argo CD Applications in one file) made shared: a promotion edits every reference to
    the image in a target file, so that file cannot be one environment's target."""
    envs: dict[tuple[str, str], set[str]] = defaultdict(set)
    for ref in refs:
        envs[(ref.file, _normal(ref.name))].add(ref.hint.env if ref.hint else "")
    return [ref if len(envs[(ref.file, _normal(ref.name))]) == 1 else
            Reference(ref.file, ref.line, ref.name, ref.tag, ref.digest, None) for ref in refs]


def _in_whole_repo(ref: Reference) -> Reference:
    return Reference(ref.file, ref.line, ref.name, ref.tag, ref.digest,
                     EnvHint(WHOLE_REPO, "repo", ""))


def _spellings(refs: Iterable[Reference]) -> dict[str, str]:
    """normalized name → the spelling most references use (first seen among equals)."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for ref in refs:
        counts[_normal(ref.name)][ref.name] += 1
    return {norm: c.most_common(1)[0][0] for norm, c in counts.items()}


def _image(key: str, repository: str, refs: list[Reference]) -> ImagePlan:
    tags = guess_tags([r.tag for r in refs if r.tag])
    pin, pin_note = guess_pin([(r.tag, r.digest) for r in refs])
    return ImagePlan(key, repository, tags, pin, pin_note)


def _environments(envs: list[str], refs: list[Reference], key_of: dict[str, str]) -> tuple[EnvPlan, ...]:
    plans = []
    for i, env in enumerate(envs):
        mine = [r for r in refs if r.hint and r.hint.env == env]
        targets = sorted({t for key in sorted({key_of[_normal(r.name)] for r in mine})
                          for t in _targets(env, key, [r for r in refs
                                                       if key_of[_normal(r.name)] == key])},
                         key=lambda t: (t.file, t.image))
        notes = sorted({f"{r.hint.where} counted as {env}" for r in mine if r.hint
                        and r.hint.origin == "dir"
                        and r.hint.where.rstrip("/").rsplit("/", 1)[-1] != env})
        plans.append(EnvPlan(env, envs[i - 1] if i else None,
                             is_prod_like(env) or env == WHOLE_REPO, tuple(targets), tuple(notes)))
    return tuple(plans)


def _targets(env: str, key: str, refs: list[Reference]) -> list[Target]:
    """The files of env holding the image, or its directory (with '/') when two or more
    files there hold it and every reference below that directory belongs to env."""
    mine = [r for r in refs if r.hint and r.hint.env == env]
    files = sorted({r.file for r in mine})
    dirs = {r.hint.where for r in mine if r.hint and r.hint.origin == "dir"}
    if len(files) >= 2 and len(dirs) == 1 and all(r.hint and r.hint.origin == "dir" for r in mine):
        where = dirs.pop()
        below = [r for r in refs if r.file.startswith(where)]
        if all(r.hint is not None and r.hint.where == where for r in below):
            return [Target(where, key)]
    return [Target(f, key) for f in files]


def _guesses(images: tuple[ImagePlan, ...], envs: tuple[EnvPlan, ...],
             whole_repo: tuple[str, ...] | None) -> tuple[str, ...]:
    """Every guess, as the summary lists them; whole_repo: the layout's environments when
    one environment covers the whole repository, else None."""
    found = [f"{i.key}: {i.tags.note}" for i in images]
    found += [f"{i.key}: pin {i.pin}, {i.pin_note}" for i in images if i.pin_note]
    if len(envs) > 1:
        found.append(f"environment order {' → '.join(e.name for e in envs)}")
    if whole_repo is not None:
        found.append(whole_repo_note(whole_repo))
    found += [f"{e.name} gated on one approval" for e in envs if e.gated]
    found += [note for e in envs for note in e.notes]
    return tuple(found)
