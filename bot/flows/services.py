"""The adapters a flow needs, passed in rather than imported."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..adapters.argocd import ArgoCdClient
from ..adapters.forges import Forge
from ..adapters.git import GitRepo
from ..adapters.prometheus import PrometheusClient, probe_health
from ..adapters.registry import RegistryClient
from ..adapters.store import Store
from ..core.config import Config

__all__ = ["Forge", "Services"]


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
    notify: Callable[[str], None] = lambda text: None
