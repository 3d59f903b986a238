"""The GitLab and Gitea doubles answer in the published wire format: every field Hoist or
python-gitlab reads has the name and JSON type it has in the forges' published examples
(shared/fixtures/gitlab/api, shared/fixtures/gitea/api), and no published field is missing.
GitHub's double is checked the same way in test_github_forge.py and test_github_app.py."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from bot.flows.services import Services
from tests import gitea_double, gitlab_double
from tests.forge_double import ForgeDouble
from tests.gitea_double import GiteaDouble
from tests.gitlab_double import GitLabDouble
from tests.support import git

Fields = list[tuple[tuple[str, ...], tuple[type, ...]]]
OPTIONAL_STR = (str, type(None))
GITLAB: dict[str, Fields] = {
    "merge_request_get": [(("iid",), (int,)), (("title",), (str,)), (("description",), (str,)),
                          (("state",), (str,)), (("labels",), (list,)), (("web_url",), (str,)),
                          (("source_branch",), (str,)), (("target_branch",), (str,)),
                          (("sha",), (str,)), (("merge_commit_sha",), OPTIONAL_STR),
                          (("detailed_merge_status",), (str,)), (("author", "username"), (str,))],
    "merge_request_merge": [(("state",), (str,)), (("merge_commit_sha",), OPTIONAL_STR),
                            (("squash_commit_sha",), OPTIONAL_STR), (("iid",), (int,))],
    "note_create_merge_request": [(("id",), (int,)), (("body",), (str,)),
                                  (("noteable_iid",), (int,)), (("author", "username"), (str,))],
    "award_emoji_create": [(("id",), (int,)), (("name",), (str,)), (("awardable_id",), (int,))],
    "project_member_all": [(("id",), (int,)), (("username",), (str,)),
                           (("access_level",), (int,)), (("state",), (str,))],
}
GITEA: dict[str, Fields] = {
    "pull_create": [(("number",), (int,)), (("title",), (str,)), (("body",), (str,)),
                    (("state",), (str,)), (("merged",), (bool,)), (("html_url",), (str,)),
                    (("merge_commit_sha",), OPTIONAL_STR), (("labels",), (list,)),
                    (("head", "ref"), (str,)), (("head", "sha"), (str,)),
                    (("base", "ref"), (str,)), (("user", "login"), (str,))],
    "issue_comment_create": [(("id",), (int,)), (("body",), (str,))],
}


def _dig(data: Any, path: tuple[str, ...]) -> Any:
    for part in path:
        data = data[part]
    return data


def _match(pattern: str, text: str) -> re.Match[str]:
    found = re.fullmatch(pattern, text)
    assert found is not None
    return found


def _check(published: dict[str, Any], produced: dict[str, Any], fields: Fields) -> None:
    assert set(published) <= set(produced), set(published) - set(produced)
    for path, kinds in fields:
        assert isinstance(_dig(published, path), kinds), path
        assert isinstance(_dig(produced, path), kinds), path


@pytest.fixture
def repo(services: Services) -> Path:
    origin = Path(services.git.url.removeprefix("file://"))
    git(origin, "branch", "hoist/dev/app", "main")
    return origin


def _started(double: ForgeDouble) -> int:
    number = double.add_pull("hoist/dev/app", "main", "t", "b")
    double.pulls[number]["labels"] = ["hoist"]
    return number


def test_gitlab_double_speaks_the_published_wire_format(repo: Path) -> None:
    double = GitLabDouble(repo)
    iid = _started(double)
    double.permissions["bob"] = "write"
    merged = double.merge_mr({}, {"squash": True}, _match(r"(?P<iid>\d+)", str(iid)))[1]
    produced = {
        "merge_request_get": double.mr_json(iid), "merge_request_merge": merged,
        "note_create_merge_request": double.note_json(iid, 5, "hi", "bob"),
        "award_emoji_create": double.award({}, {"name": "thumbsup"},
                                           _match(r"(?P<note>\d+)", "5"))[1],
        "project_member_all": double.members_all({"query": "bob"}, {}, _match("", ""))[1][0],
    }
    for name, fields in GITLAB.items():
        _check(gitlab_double.example(name), produced[name], fields)
    assert produced["merge_request_get"]["state"] == "merged"
    assert isinstance(produced["merge_request_get"]["merge_commit_sha"], str)


def test_gitea_double_speaks_the_published_wire_format(repo: Path) -> None:
    double = GiteaDouble(repo)
    double.labels["hoist"] = 1
    number = _started(double)
    produced = {"pull_create": double.pull_json(number),
                "issue_comment_create": double.create_comment(
                    {}, {"body": "hi"}, _match(r"(?P<n>\d+)", str(number)))[1]}
    for name, fields in GITEA.items():
        _check(gitea_double.example(name), produced[name], fields)
    permission = double.permission({}, {}, _match(r"(?P<user>\w+)", "bob"))[1]
    assert set(permission) == {"permission", "role_name", "user"}  # RepoCollaboratorPermission
