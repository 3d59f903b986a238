"""The Compose variant on PostgreSQL (compose/postgres.yml, layered on docker-compose.yml)."""

from __future__ import annotations

import json

from tests.support import ROOT
from tests.test_packaging import check_compose, load


def test_postgres_variant_follows_the_spec_and_waits_for_a_healthy_database() -> None:
    override = load(ROOT / "compose" / "postgres.yml")
    check_compose(override)
    services = override["services"]
    base = load(ROOT / "docker-compose.yml")["services"]
    assert {"hoist"} <= base.keys()  # it layers on the base stack's service
    assert services["postgres"]["healthcheck"]["test"][:2] == ["CMD", "pg_isready"]
    for name in ("hoist", "hoist-worker"):
        assert services[name]["depends_on"]["postgres"] == {"condition": "service_healthy"}
        url = services[name]["environment"]["HOIST_DATABASE_URL"]
        assert url.startswith("postgresql://hoist:${HOIST_POSTGRES_PASSWORD")  # from .env
    assert services["hoist-worker"]["command"][-2:] == ["--role", "worker"]
    assert services["hoist-worker"]["read_only"] is True
    assert "change-me" not in json.dumps(override)
