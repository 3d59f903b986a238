"""Which forge Hoist talks to, from the environment: HOIST_FORGE, else the credentials set;
two sets at once (without HOIST_FORGE) and missing pieces stop `serve` with the reason."""

from __future__ import annotations

import pytest

from bot.settings import Settings, SettingsError

BASE = {"HOIST_MANIFESTS_REPO": "file:///srv/manifests.git", "HOIST_WEBHOOK_SECRET": "s"}
GITLAB = {"HOIST_GITLAB_TOKEN": "glpat-x", "HOIST_GITLAB_PROJECT": "acme/platform/manifests"}
GITEA = {"HOIST_GITEA_TOKEN": "t0k", "HOIST_GITEA_URL": "https://git.example.com",
         "HOIST_GITEA_REPOSITORY": "acme/manifests"}


def settings(**env: str) -> Settings:
    return Settings.from_env({**BASE, **env})


def test_the_forge_follows_from_the_credentials_set() -> None:
    assert settings().forge == "local"
    assert settings(HOIST_GITHUB_TOKEN="ghp_x", HOIST_GITHUB_REPOSITORY="a/b").forge == "github"
    assert settings(**GITLAB).forge == "gitlab"
    assert settings(**GITEA).forge == "gitea"
    for env in ({}, GITLAB, GITEA):
        settings(**env).check_serve()
    assert settings(**GITLAB).forge_token == "glpat-x"
    assert settings(**GITLAB).gitlab_url == "https://gitlab.com"


def test_two_sets_of_credentials_need_hoist_forge() -> None:
    both = settings(**GITLAB, **GITEA)
    with pytest.raises(SettingsError, match="gitlab and gitea are both set: set HOIST_FORGE"):
        both.check_serve()
    chosen = settings(**GITLAB, **GITEA, HOIST_FORGE="gitea")
    chosen.check_serve()
    assert chosen.forge == "gitea" and chosen.forge_token == "t0k"


@pytest.mark.parametrize(("env", "reason"), [
    ({"HOIST_FORGE": "bitbucketx"}, "expected one of local, github, gitlab, gitea"),
    ({"HOIST_FORGE": "bitbucket"}, "needs HOIST_BITBUCKET_TOKEN"),
    ({"HOIST_FORGE": "gitlab"}, "needs HOIST_GITLAB_TOKEN"),
    ({"HOIST_FORGE": "gitea", "HOIST_GITEA_TOKEN": "t"}, "needs HOIST_GITEA_URL"),
    ({"HOIST_GITEA_TOKEN": "t", "HOIST_GITEA_URL": "https://git.example.com"},
     "needs HOIST_GITEA_REPOSITORY"),
    ({"HOIST_GITLAB_TOKEN": "t"}, "needs HOIST_GITLAB_PROJECT"),
])
def test_missing_pieces_are_named(env: dict[str, str], reason: str) -> None:
    with pytest.raises(SettingsError, match=reason):
        settings(**env).check_serve()


@pytest.mark.parametrize(("repo", "gitlab_url", "project"), [
    ("https://gitlab.com/acme/platform/manifests.git", None, "acme/platform/manifests"),
    ("git@gitlab.com:acme/manifests.git", None, "acme/manifests"),
    ("https://git.corp.example/gitlab/acme/manifests.git", "https://git.corp.example/gitlab",
     "acme/manifests"),
    ("ssh://git@git.corp.example:2222/acme/manifests.git", "https://git.corp.example/gitlab",
     "acme/manifests"),
    ("https://github.com/acme/manifests.git", None, None),
])
def test_gitlab_project_read_from_the_manifests_repo(repo: str, gitlab_url: str | None,
                                                     project: str | None) -> None:
    env = {"HOIST_MANIFESTS_REPO": repo, **({"HOIST_GITLAB_URL": gitlab_url} if gitlab_url
                                             else {})}
    assert Settings.from_env(env).gitlab_project == project


def test_gitea_repository_read_from_the_manifests_repo_and_secrets_kept_secret() -> None:
    found = Settings.from_env({"HOIST_MANIFESTS_REPO": "https://git.example.com/acme/m.git",
                               "HOIST_GITEA_URL": "https://git.example.com/",
                               "HOIST_GITEA_TOKEN": "t0k", "HOIST_GITEA_WEBHOOK_SECRET": "w",
                               "HOIST_GITLAB_WEBHOOK_SECRET": "gw"})
    assert found.gitea_repository == "acme/m" and found.gitea_url == "https://git.example.com"
    assert {"t0k", "w", "gw"} <= set(found.secrets)
    assert "t0k" not in repr(found) and "gw" not in repr(found)


def test_every_missing_or_invalid_variable_is_named_in_one_line() -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_env({"HOIST_FORGE": "gitea"}).check_serve()
    line = str(raised.value)
    assert "\n" not in line
    for name in ("HOIST_MANIFESTS_REPO", "HOIST_GITEA_URL", "HOIST_GITEA_TOKEN",
                 "HOIST_WEBHOOK_SECRET"):
        assert name in line, name
    with pytest.raises(SettingsError, match=r"HOIST_WORKERS .*; HOIST_LEASE_SECONDS"):
        Settings.from_env({"HOIST_WORKERS": "many", "HOIST_LEASE_SECONDS": "0"})
