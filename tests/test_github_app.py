"""GitHub App authentication, end to end against the GitHub double: the app's RS256 JWT finds
the repository's installation, the installation token is fetched, used for every call,
fetched again before it expires (the double refuses expired tokens), handed to git, and
never logged."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from bot.adapters.forges.github import GitHubForge
from bot.flows.services import Services
from bot.settings import Settings
from bot.wiring import build_services
from tests.github_double import GitHubDouble, app_example
from tests.support import git

APP_ID = "31337"


def key_pair() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    return private, public.decode()


@pytest.fixture
def app_double(services: Services) -> Iterator[tuple[GitHubDouble, str]]:
    private, public = key_pair()
    double = GitHubDouble(Path(services.git.url.removeprefix("file://"))).start()
    # PyGithub fetches a new token 20 s before expiry: 21 s means "stale after one second".
    double.app(APP_ID, public, token_lifetime=21.0)
    yield double, private
    double.stop()


def test_installation_token_fetched_used_refreshed_and_never_logged(
        app_double: tuple[GitHubDouble, str], services: Services,
        capsys: pytest.CaptureFixture[str]) -> None:
    double, private = app_double
    git(services.git.url.removeprefix("file://"), "branch", "hoist/dev/app", "main")
    forge = GitHubForge(services.store, double.full_name, app_id=APP_ID, private_key=private,
                        base_url=double.url, timeout=2, pace=0)
    first = forge.propose("p1", "hoist/dev/app", "main", "t", "b", ("hoist",))
    assert len(double.issued) == 1 and first.number == 1
    token = double.issued[0][0]
    assert double.token_uses and set(double.token_uses) == {token}
    assert forge.git_token() == token
    time.sleep(1.2)  # within 20 s of expiry now
    forge.comment(1, "still here")
    assert len(double.issued) == 2
    assert double.token_uses[-1] == double.issued[1][0] != token
    assert forge.git_token() == double.issued[1][0]
    output = capsys.readouterr()
    for issued, _ in double.issued:
        assert issued not in output.out + output.err


def test_a_wrong_app_key_is_refused(app_double: tuple[GitHubDouble, str],
                                    services: Services) -> None:
    double, _ = app_double
    other, _ = key_pair()
    with pytest.raises(Exception, match="401"):
        GitHubForge(services.store, double.full_name, app_id=APP_ID, private_key=other,
                    base_url=double.url, timeout=2, pace=0)
    assert double.issued == []


def test_wiring_gives_git_the_installation_token(app_double: tuple[GitHubDouble, str],
                                                 services: Services, tmp_path: Path) -> None:
    double, private = app_double
    settings = Settings.from_env({
        "HOIST_MANIFESTS_REPO": services.git.url, "HOIST_DATA_DIR": str(tmp_path / "d"),
        "HOIST_GITHUB_APP_ID": APP_ID, "HOIST_GITHUB_PRIVATE_KEY": private,
        "HOIST_GITHUB_REPOSITORY": double.full_name, "HOIST_GITHUB_API_URL": double.url,
        "HOIST_GITHUB_PACE": "0", "HOIST_WEBHOOK_SECRET": "s"})
    settings.check_serve()
    built = build_services(settings)
    assert isinstance(built.forge, GitHubForge) and callable(built.git.token)
    assert built.git.token() == double.issued[-1][0]
    assert private not in repr(settings)


# The fields PyGithub reads from the published App examples, and their JSON types.
APP_FIELDS: dict[str, list[tuple[str, type]]] = {
    "installation": [("id", int), ("app_id", int), ("access_tokens_url", str),
                     ("repository_selection", str)],
    "installation-token": [("token", str), ("expires_at", str), ("permissions", dict),
                           ("repository_selection", str)],
}


def test_double_answers_in_the_published_app_shapes(app_double: tuple[GitHubDouble, str]
                                                    ) -> None:
    double, _ = app_double
    installation = re.fullmatch(r"(?P<id>\d+)", "77")
    assert installation is not None
    produced: dict[str, Any] = {
        "installation": double.installation({}, {}, installation)[1],
        "installation-token": double.access_token({}, {}, installation)[1],
    }
    for name, fields in APP_FIELDS.items():
        for field, kind in fields:
            assert isinstance(app_example(name)[field], kind), (name, field)
            assert isinstance(produced[name][field], kind), (name, field)
