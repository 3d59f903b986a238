"""Environment names read from a repository's layout (pure): overlay and directory names,
`values-ENV.yaml` files, Argo CD Application and Flux HelmRelease names; and their order."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

# The usual promotion order: dev → qa/test → staging/stage/uat → prod/production.
RANKS: dict[str, int] = {
    "dev": 0, "development": 0,
    "qa": 1, "test": 1, "testing": 1,
    "staging": 2, "stage": 2, "uat": 2, "preprod": 2,
    "prod": 3, "production": 3,
}
PROD_RANK = 3
_TOKEN = re.compile(r"[-_.]")


@dataclass(frozen=True)
class EnvHint:
    """Where a file's environment came from.

    env: the environment name (a key of RANKS). origin: "dir" (a directory named for it;
    `where` is that directory, ending in '/'), "file" (the file's own name, as
    values-prod.yaml) or "name" (an Argo CD Application / Flux HelmRelease name; `where`
    is the name).
    """

    env: str
    origin: str
    where: str


def env_word(token: str) -> str | None:
    """The environment a single word names (`prod`, `Staging`), else None."""
    word = token.lower()
    return word if word in RANKS else None


def env_in_name(name: str, anywhere: bool = False) -> str | None:
    """The environment a name ends in (`values-prod`, `guestbook-dev`, `values.staging`);
    with anywhere, any of its words counts (`prod-canary`, `prod-eu-west`)."""
    tokens = [t for t in _TOKEN.split(name) if t]
    if not tokens:
        return None
    if not anywhere:
        return env_word(tokens[-1])
    return next((env for t in tokens if (env := env_word(t)) is not None), None)


def env_of_path(path: str) -> EnvHint | None:
    """The environment a repository path belongs to: the file's own name first (the
    values-ENV.yaml convention), then the deepest directory named for one."""
    parts = path.split("/")
    stem = parts[-1].rsplit(".", 1)[0] if "." in parts[-1] else parts[-1]
    env = env_in_name(stem)
    if env is not None:
        return EnvHint(env, "file", path)
    for depth in range(len(parts) - 2, -1, -1):
        env = env_in_name(parts[depth], anywhere=True)
        if env is not None:
            return EnvHint(env, "dir", "/".join(parts[:depth + 1]) + "/")
    return None


def order(envs: Iterable[str]) -> list[str]:
    """Environments in promotion order (rank, then name)."""
    return sorted(set(envs), key=lambda env: (RANKS.get(env, PROD_RANK), env))


def is_prod_like(env: str) -> bool:
    """True for the environments people usually gate (prod, production)."""
    return RANKS.get(env) == PROD_RANK
