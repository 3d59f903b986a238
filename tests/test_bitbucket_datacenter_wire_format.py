"""The Bitbucket Data Center double answers in the published wire format, and Hoist sends what
Bitbucket reads: every field Hoist reads has the name and JSON type it has in the published
examples (shared/fixtures/bitbucket-datacenter/api), no published field is missing from the
double's answers, and the build status Hoist posts uses the published request's names."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.forges.bitbucket_datacenter_builds import build_status
from bot.core.notices import DeploymentUpdate, Subject
from bot.flows.services import Services
from tests.bitbucket_datacenter_double import BitbucketDataCenterDouble, example
from tests.support import git

Fields = list[tuple[tuple[str | int, ...], tuple[type, ...]]]
PULL: Fields = [(("id",), (int,)), (("version",), (int,)), (("title",), (str,)),
                (("description",), (str,)), (("state",), (str,)),
                (("fromRef", "id"), (str,)), (("fromRef", "latestCommit"), (str,)),
                (("toRef", "id"), (str,)), (("toRef", "repository", "id"), (int,)),
                (("links", "self", 0, "href"), (str,)), (("reviewers",), (list,))]
PUBLISHED: dict[str, Fields] = {
    "pull_request_get": PULL,
    "pull_requests_list": [(("values",), (list,)), (("isLastPage",), (bool,)),
                           (("values", 0, "fromRef", "id"), (str,)),
                           (("values", 0, "toRef", "id"), (str,))],
    "pull_request_comment_create": [(("id",), (int,)), (("text",), (str,)),
                                    (("author", "name"), (str,))],
    "pull_request_activities": [(("values",), (list,)), (("values", 0, "action"), (str,)),
                                (("isLastPage",), (bool,))],
    "pull_request_get_approved": [(("reviewers", 0, "status"), (str,)),
                                  (("reviewers", 0, "user", "name"), (str,))],
    "pull_request_get_merged": [(("state",), (str,)), (("version",), (int,))],
    "error_not_found": [(("errors", 0, "message"), (str,)),
                        (("errors", 0, "exceptionName"), (str,))],
}


def _dig(data: Any, path: tuple[str | int, ...]) -> Any:
    for part in path:
        data = data[part]
    return data


def _check(published: dict[str, Any], produced: dict[str, Any], fields: Fields) -> None:
    assert set(published) <= set(produced), set(published) - set(produced)
    for path, kinds in fields:
        assert isinstance(_dig(published, path), kinds), path
        assert isinstance(_dig(produced, path), kinds), path


def _match(pattern: str, text: str) -> re.Match[str]:
    found = re.fullmatch(pattern, text)
    assert found is not None
    return found


@pytest.fixture
def double(services: Services) -> BitbucketDataCenterDouble:
    origin = Path(services.git.url.removeprefix("file://"))
    git(origin, "branch", "hoist/dev/app", "main")
    made = BitbucketDataCenterDouble(origin)
    made.add_pull("hoist/dev/app", "main", "t", "b")
    made.pulls[1]["labels"] = ["hoist"]
    return made


def test_the_double_speaks_the_published_wire_format(double: BitbucketDataCenterDouble) -> None:
    repo = _match(r"(?P<key>\w+)/(?P<slug>\w+)/(?P<n>\d+)", "ACME/manifests/1")
    double.add_review(1, "carol")
    approved = double.pull_json(1)
    double.merge_by_hand(1)
    produced = {
        "pull_request_get": double.pull_json(1),
        "pull_requests_list": double.list_pulls({"state": "ALL"}, {}, repo)[1],
        "pull_request_comment_create": double.create_comment({}, {"text": "hi"}, repo)[1],
        "pull_request_activities": double.activities({}, {}, repo)[1],
        "pull_request_get_approved": approved,
        "pull_request_get_merged": double.pull_json(1),
        "error_not_found": double.get_repo({}, {}, _match(r"(?P<key>\w+)/(?P<slug>\w+)",
                                                          "NOPE/nothing"))[1],
    }
    for name, fields in PUBLISHED.items():
        _check(example(name), produced[name], fields)
    assert produced["pull_request_get"]["description"] == "b\n\n---\nHoist labels: hoist"
    assert produced["pull_request_get_merged"]["state"] == "MERGED"
    assert produced["pull_request_activities"]["values"][0]["action"] == "MERGED"


def test_build_statuses_use_the_published_request_names() -> None:
    subject = Subject("p1", "guestbook", "prod", "acme/guestbook", "1.4.1", "1.4.2",
                      merge_sha="a" * 40, page="https://hoist.example/promotions/p1")
    sent = build_status(subject, DeploymentUpdate("success", "guestbook 1.4.2 runs in prod"),
                        "https://bitbucket.example/projects/ACME/repos/manifests/browse")
    published = example("build_status_request")
    for key, value in sent.items():
        if key != "name":  # `name` is in the REST reference, not in woodpecker's request
            assert isinstance(published[key], type(value)), key
    assert sent["state"] == published["state"] == "SUCCESSFUL"
    assert (sent["key"], sent["url"]) == ("hoist/prod", "https://hoist.example/promotions/p1")
