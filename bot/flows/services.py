"""The adapters a flow needs, passed in rather than imported."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from ..adapters.argocd import ArgoCdClient
from ..adapters.forges import Forge
from ..adapters.git import GitRepo
from ..adapters.prometheus import PrometheusClient, probe_health
from ..adapters.registry import RegistryClient
from ..adapters.rendering import RenderEngine
from ..adapters.store import Store
from ..adapters.verify.verifier import Verifier
from ..core.config import Config
from ..core.notices import DeploymentUpdate, Notice, Subject
from ..core.polling import PollSetting

__all__ = ["Forge", "Services"]


class Deployments(Protocol):
    """Where the forge shows which version runs in which environment: GitHub Deployments
    (adapters/deployments.py); a forge without them may map updates to commit statuses."""

    def report(self, subject: Subject, updates: list[DeploymentUpdate]) -> None:
        """Record these statuses for the subject's merge commit; never raises."""
        ...


@dataclass
class Services:
    store: Store
    git: GitRepo
    forge: Forge
    config: Callable[[], Config]
    registry: RegistryClient | None = None
    bot_login: str | None = None
    prometheus: Callable[[str], PrometheusClient] = PrometheusClient
    probe: Callable[[str, float, str | None],
                    tuple[int | None, float | None, str | None, str | None]] = probe_health
    argocd: Callable[[str], ArgoCdClient] = lambda server: ArgoCdClient(server, None)
    notify: Callable[[Notice], None] = lambda notice: None  # queues; never blocks or raises
    deployments: Deployments | None = None
    public_url: str | None = None  # where people reach Hoist's page (HOIST_PUBLIC_URL)
    polling: PollSetting = field(default_factory=PollSetting)  # HOIST_POLL_REGISTRIES
    renderer: RenderEngine | None = None  # renders each change (HOIST_RENDER); None: off
    verifier: Verifier | None = None  # signatures, provenance, attestations (flows/verify.py)
