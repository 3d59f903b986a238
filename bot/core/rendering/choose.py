"""Which renderer renders a changed file (issue 26, "Render before and after"):

1. `render:` on the target names it (`kustomize: DIR`, `helm: {...}`), or `none` turns it off;
2. an Argo CD Application or a Flux HelmRelease whose chart is a directory of the repository
   renders that chart with its inline values (`valuesObject`, `values`, `spec.values`);
3. a file inside a Kustomize directory (the nearest one holding a kustomization) renders it;
4. a values file beside a chart (its Chart.yaml in the same or an enclosing directory, or in
   the one sub-directory that holds a chart) renders that chart with the file;
5. a file of Kubernetes objects renders as itself.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Collection, Sequence
from typing import Any

import yaml

from ..config import Target
from .model import Job

KUSTOMIZATIONS = ("kustomization.yaml", "kustomization.yml", "Kustomization")

Reader = Callable[[str], str | None]


def documents(text: str) -> list[Any]:
    """The YAML documents of a file; [] when it is not YAML."""
    try:
        return [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError:
        return []


def _dir(path: str) -> str:
    return posixpath.dirname(path)


def _ancestors(path: str) -> list[str]:
    out, here = [], _dir(path)
    while True:
        out.append(here)
        if not here:
            return out
        here = _dir(here)


def _join(*parts: str) -> str:
    return posixpath.join(*[p for p in parts if p]) if any(parts) else ""


def _chart_dir(path: str, paths: Collection[str]) -> str | None:
    for here in _ancestors(path):
        if _join(here, "Chart.yaml") in paths:
            return here
    here = _dir(path)
    below = {p.split("/")[0] for p in (q[len(here) + 1 if here else 0:] for q in paths
                                        if q.startswith(f"{here}/" if here else ""))
             if p.count("/") == 1 and p.endswith("/Chart.yaml")}
    return _join(here, below.pop()) if len(below) == 1 else None


def _spec(doc: Any) -> dict[str, Any]:
    spec = doc.get("spec") if isinstance(doc, dict) else None
    return spec if isinstance(spec, dict) else {}


def _application(file: str, doc: dict[str, Any], paths: Collection[str]) -> Job | None:
    spec = _spec(doc)
    source = spec.get("source") or next(iter(spec.get("sources") or []), None)
    if not isinstance(source, dict) or not isinstance(source.get("path"), str):
        return None
    chart = source["path"].strip("/")
    if _join(chart, "Chart.yaml") not in paths:
        return None
    helm: dict[str, Any] = source["helm"] if isinstance(source.get("helm"), dict) else {}
    values = tuple(_join(chart, v) for v in helm.get("valueFiles") or [] if isinstance(v, str))
    destination: dict[str, Any] = spec["destination"] \
        if isinstance(spec.get("destination"), dict) else {}
    release = helm.get("releaseName") or (doc.get("metadata") or {}).get("name") or ""
    return Job("helm", chart, values, file, str(release), str(destination.get("namespace") or ""))


def _helm_release(file: str, doc: dict[str, Any], paths: Collection[str]) -> Job | None:
    spec = _spec(doc)
    chart_spec = _spec(spec.get("chart")) if isinstance(spec.get("chart"), dict) else {}
    chart = chart_spec.get("chart")
    if not isinstance(chart, str):
        return None
    chart = chart.removeprefix("./").strip("/")
    if _join(chart, "Chart.yaml") not in paths:
        return None
    meta = doc.get("metadata") or {}
    release = spec.get("releaseName") or meta.get("name") or ""
    namespace = spec.get("targetNamespace") or meta.get("namespace") or ""
    return Job("helm", chart, (), file, str(release), str(namespace))


def job_for(file: str, target: Target | None, paths: Collection[str], read: Reader) -> Job | None:
    """The Job rendering changed `file` (relative to the root); None when nothing renders it
    (`render: none`, or a file that holds no Kubernetes object)."""
    render = target.render if target is not None else None
    allow = bool(render and render.allow_other_changes)
    if render is not None and render.off:
        return None
    if render is not None and render.kustomize is not None:
        return Job("kustomize", render.kustomize, allow_other_changes=allow)
    if render is not None and render.helm is not None:
        h = render.helm
        return Job("helm", h.chart, tuple(h.values), None, h.release or posixpath.basename(h.chart),
                   h.namespace or "", allow_other_changes=allow)
    docs = documents(read(file) or "")
    for doc in docs:
        if isinstance(doc, dict) and doc.get("kind") == "Application":
            job = _application(file, doc, paths)
        elif isinstance(doc, dict) and doc.get("kind") == "HelmRelease":
            job = _helm_release(file, doc, paths)
        else:
            continue
        if job is not None:
            return Job(job.kind, job.dir, job.values, job.inline, job.release, job.namespace,
                       allow_other_changes=allow)
    for here in _ancestors(file):
        if any(_join(here, k) in paths for k in KUSTOMIZATIONS):
            return Job("kustomize", here, allow_other_changes=allow)
    chart = _chart_dir(file, paths)
    if chart is not None and posixpath.basename(_dir(file)) != "templates":
        values = () if file == _join(chart, "values.yaml") else (file,)
        meta = next(iter(documents(read(_join(chart, "Chart.yaml")) or "")), None)
        name = str(meta.get("name")) if isinstance(meta, dict) and meta.get("name") else \
            posixpath.basename(chart) or "release"
        return Job("helm", chart, values, None, name, "", allow_other_changes=allow)
    if any(isinstance(d, dict) and "kind" in d and "apiVersion" in d for d in docs):
        return Job("manifests", files=(file,), allow_other_changes=allow)
    return None


def _target_of(file: str, targets: Sequence[Target]) -> Target | None:
    for target in targets:
        if target.file == file or (target.is_directory and file.startswith(target.file)):
            return target
    return None


def jobs_for(files: Sequence[str], targets: Sequence[Target], paths: Collection[str],
             read: Reader) -> list[Job]:
    """One Job per app the changed `files` belong to, in first-seen order, duplicates
    merged (plain manifests of one directory are one app)."""
    jobs: dict[Job, None] = {}
    for file in files:
        job = job_for(file, _target_of(file, targets), paths, read)
        if job is not None:
            jobs[job] = None
    merged: list[Job] = []
    for job in jobs:
        same = next((j for j in merged if j.kind == "manifests" == job.kind
                     and _dir(j.files[0]) == _dir(job.files[0])), None)
        if same is None:
            merged.append(job)
        else:
            merged[merged.index(same)] = Job("manifests", files=(*same.files, *job.files),
                                             allow_other_changes=same.allow_other_changes)
    return merged
