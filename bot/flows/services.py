"""The adapters a flow needs, passed in rather than imported."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from ..adapters.git import GitRepo
from ..adapters.registry import RegistryClient
from ..adapters.store import ChangeRequest, Store
from ..core.config import Config


class Forge(Protocol):
    name: str

    def propose(self, promotion_id: str, branch: str, base: str, title: str,
                body: str) -> ChangeRequest: ...

    def merge(self, promotion_id: str, commit: str, base: str, message: str) -> str: ...


@dataclass
class Services:
    store: Store
    git: GitRepo
    forge: Forge
    config: Callable[[], Config]
    registry: RegistryClient | None = None
