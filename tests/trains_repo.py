"""Manifests repositories for release trains: one Deployment file per image per environment
and a hoist.yaml whose environments deploy every image, for the train tests and bench."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.demo.manifests import make_manifests_repo


@dataclass(frozen=True)
class Env:
    """One environment of the chain; `extra` is more hoist.yaml (indented four spaces)."""

    name: str
    after: str | None = None
    approval: str = "none"
    extra: str = ""


CHAIN = (Env("dev"), Env("staging", "dev"), Env("prod", "staging", "manual"))


def deployment(image: str, reference: str) -> str:
    return (f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {image}\nspec:\n"
            f"  template:\n    spec:\n      containers:\n        - name: {image}\n"
            f"          image: {reference}\n")


def hoist_yaml(images: list[str], envs: tuple[Env, ...] = CHAIN, train: str | None = "shop",
               window: str = "3s", host: str = "localhost:5000") -> str:
    """Every image pinned by tag@digest with a semver policy; with `train`, all of them in
    it (listed by key)."""
    text = "images:\n" + "".join(
        f"  {i}: {{repository: {host}/acme/{i}, tags: {{semver: \">=1.0.0\"}}, "
        "pin: tag@digest}\n" for i in images)
    text += "environments:\n"
    for env in envs:
        text += f"  - name: {env.name}\n    approval: {env.approval}\n"
        text += f"    after: {env.after}\n" if env.after else ""
        text += "    targets:\n" + "".join(
            f"      - {{file: apps/{i}/{env.name}.yaml, image: {i}}}\n" for i in images)
        text += env.extra
    if train:
        text += f"trains:\n  {train}:\n    images: [{', '.join(images)}]\n    window: {window}\n"
    return text


def make_train_repo(dest: Path, images: list[str], registry_host: str,
                    envs: tuple[Env, ...] = CHAIN, train: str | None = "shop",
                    window: str = "3s", files: dict[str, str] | None = None) -> str:
    """A bare manifests repository at dest/manifests.git where every image runs 1.0.0 in
    every environment; `files` adds more (path -> text). Its file:// URL."""
    source = dest / "source"
    for image in images:
        for env in envs:
            path = source / "apps" / image / f"{env.name}.yaml"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(deployment(image, f"localhost:5000/acme/{image}:1.0.0"))
    for name, text in (files or {}).items():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_text(text)
    (source / "hoist.yaml").write_text(hoist_yaml(images, envs, train, window))
    return make_manifests_repo(dest, registry_host, source, policy="hoist.yaml")
