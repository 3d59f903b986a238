"""Generated input at scale: every source parser, the GitHub webhook parser, the ChatOps parser
and every HTTP operation of the app get HOIST_FUZZ_CASES (default 3,000) generated cases each;
none may raise anything but a clean refusal, and the app never answers 5xx."""

from __future__ import annotations

import asyncio
import base64
import copy
import hashlib
import hmac
import json
import logging
import os
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
import structlog
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.core.result import Ok

from bot.core.commands import parse_commands
from bot.core.events import ImagePushed, PullRequestActivity
from bot.flows.services import Services
from bot.settings import Settings
from bot.sources import (
    SOURCES,
    PayloadError,
    azure_devops_events,
    bitbucket_datacenter_events,
    bitbucket_events,
    gitea_events,
    gitlab_events,
)
from bot.sources.github_events import pull_request_activity
from bot.web.app import create_app
from tests.payloads import PAYLOADS
from tests.support import FIXTURES

CASES = int(os.environ.get("HOIST_FUZZ_CASES", "3000"))
pytestmark = pytest.mark.fuzz
FUZZ = settings(max_examples=CASES, deadline=None, database=None, phases=[Phase.generate],
                suppress_health_check=list(HealthCheck))
SEEN: dict[str, Counter[str]] = {}  # cases per target, printed at the end of the module

# Values that break parsers: wrong types, edges of numbers, odd strings. Sampling from a list is
# cheap, which is what lets every parser get 10,000 cases in a CI run.
ODD: list[Any] = [None, True, False, 0, -1, 1, 2**63, -(2**63), 1.5, 1e308, "", " ", "a" * 300, "latest",
       "1.0.0", "v1.2.3-rc.1+build", "sha256:" + "0" * 64, "sha256:zz", "../../etc/passwd",
       "/abs/path", "ghcr.io/acme/app:1.0@sha256:" + "f" * 64, "UPPER/Case:Tag", "ünïcödé",
       "\x00", "line\nbreak", "{{ .Values }}", "${env}", "*", "%s%n", "push", "PUSH",
       "application/vnd.oci.image.manifest.v1+json", "1" * 50, {}, [], [[]], {"": None}]
leaves = st.one_of(st.sampled_from(ODD), st.sampled_from(ODD), st.text(max_size=12), st.integers())
json_values = st.recursive(leaves, lambda c: st.lists(c, max_size=3) | st.dictionaries(
    st.text(max_size=8), c, max_size=3), max_leaves=6)
# What a mutation does at the node it picks; the node is chosen by index among all nodes.
EDITS = ["replace", "replace", "replace", "delete", "empty-object", "empty-list", "nest"]
def _nodes(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(value, dict):
        for key, child in value.items():
            found += _nodes(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _nodes(child, (*path, index))
    return found


def _apply(seed: Any, edits: list[tuple[int, int, int]]) -> Any:
    doc = copy.deepcopy(seed)
    for where, edit_index, leaf_index in edits:
        nodes = _nodes(doc)
        path = nodes[where % len(nodes)]
        if not path:
            continue
        parent = doc
        for key in path[:-1]:
            parent = parent[key]
        edit, leaf = EDITS[edit_index], copy.deepcopy(ODD[leaf_index])
        if edit == "delete":
            del parent[path[-1]]
        else:
            parent[path[-1]] = {"replace": leaf, "empty-object": {}, "empty-list": [],
                                "nest": [[[[leaf]]]]}[edit]
    return doc


def mutations(seed_docs: list[Any]) -> st.SearchStrategy[Any]:
    """Vendor examples with a few nodes replaced, deleted or retyped: deep coverage of a
    parser that would refuse random JSON at its first key. Drawn as a few integers (a plan),
    not a tree, so Hypothesis spends little per case."""
    edit = st.tuples(st.integers(0, 2**16), st.integers(0, len(EDITS) - 1),
                     st.integers(0, len(ODD) - 1))
    return st.tuples(st.integers(0, len(seed_docs) - 1), st.lists(edit, max_size=3)).map(
        lambda plan: _apply(seed_docs[plan[0]], plan[1]))


def seeds(name: str) -> list[Any]:
    """The published examples of a source (tests/payloads.py: shared fixtures and tests/data,
    every generation), as JSON documents."""
    found = [p.document() for p in PAYLOADS if p.source == name and p.path.suffix != ".txt"]
    if name in ("distribution", "gitlab"):  # the published envelope's manifest push has no tag
        tagged = copy.deepcopy(found[0])
        tagged["events"][0]["target"]["tag"] = "1.0.0"
        found.append(tagged)
    if name == "generic":
        found = [{"registry": "r.example", "repository": "acme/app", "tag": "1.0",
                  "digest": "sha256:" + "a" * 64, "id": "x"}]
    return found


def bodies(seed_docs: list[Any]) -> st.SearchStrategy[bytes]:
    mutated = mutations(seed_docs).map(lambda v: json.dumps(v).encode())
    return st.one_of(mutated, mutated, mutated, json_values.map(lambda v: json.dumps(v).encode()),
                     st.binary(max_size=64))


HEADERS = st.fixed_dictionaries({}, optional={
    "x-github-event": st.sampled_from(["package", "registry_package", "issue_comment",
                                       "pull_request", "pull_request_review", "ping", ""]),
    "x-github-delivery": st.text(max_size=20),
    "x-amz-sns-message-type": st.sampled_from(["Notification", "SubscriptionConfirmation", "x"]),
    "ce-type": st.text(max_size=30), "content-type": st.text(max_size=30),
})


BATCH = 10  # inputs per Hypothesis example: the engine's per-example cost, paid once per batch


def fuzz(target: str, strategy: st.SearchStrategy[Any], check: Callable[[Any], str]) -> None:
    """Feed check CASES generated values (in batches); it returns an outcome name to tally."""
    seen: Counter[str] = Counter()

    @settings(FUZZ, max_examples=-(-CASES // BATCH))
    @given(batch=st.lists(strategy, min_size=BATCH, max_size=BATCH))
    def run(batch: list[Any]) -> None:
        for value in batch:
            seen[check(value)] += 1

    run()
    SEEN[target] = seen
    assert sum(seen.values()) >= CASES


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_source_parser(name: str) -> None:
    source = SOURCES[name]

    def check(case: tuple[bytes, dict[str, str]]) -> str:
        body, headers = case
        try:
            pushes = source.parse(headers, body)
        except PayloadError:
            return "refused"
        assert all(isinstance(p, ImagePushed) for p in pushes)
        return "parsed" if pushes else "nothing"

    fuzz(f"source {name}", st.tuples(bodies(seeds(name)), HEADERS), check)


def test_github_webhook_parser() -> None:
    def check(case: tuple[bytes, dict[str, str]]) -> str:
        body, headers = case
        try:
            activity = pull_request_activity(headers, body)
        except PayloadError:
            return "refused"
        assert all(isinstance(a, PullRequestActivity) for a in activity)
        return "parsed" if activity else "nothing"

    docs = [json.loads((FIXTURES / "github" / f).read_text()) for f in (
        "issue_comment.created.json", "pull_request.closed.json",
        "pull_request_review.submitted.json", "pull_request.opened.json")]
    fuzz("github webhook", st.tuples(bodies(docs), HEADERS), check)


@pytest.mark.parametrize("forge", ["gitlab", "gitea", "bitbucket-cloud", "bitbucket-datacenter",
                                   "azure-devops"])
def test_forge_webhook_parser(forge: str) -> None:
    parse = {"gitlab": gitlab_events.merge_request_activity,
             "bitbucket-cloud": bitbucket_events.pull_request_activity,
             "bitbucket-datacenter": bitbucket_datacenter_events.pull_request_activity,
             "azure-devops": azure_devops_events.pull_request_activity}.get(
        forge, gitea_events.pull_request_activity)

    def check(case: tuple[bytes, dict[str, str]]) -> str:
        body, headers = case
        try:
            activity = parse(headers, body)
        except PayloadError:
            return "refused"
        assert all(isinstance(a, PullRequestActivity) for a in activity)
        return "parsed" if activity else "nothing"

    docs = [json.loads(f.read_text()) for f in sorted((FIXTURES / forge / "webhooks")
                                                       .glob("*.json"))
            if not f.name.endswith(".headers.json")]
    events = st.fixed_dictionaries({"x-gitea-event": st.sampled_from(EVENTS),
                                    "x-event-key": st.sampled_from(BITBUCKET_EVENTS)}) | \
        st.fixed_dictionaries({"x-event-key": st.sampled_from(BITBUCKET_DC_EVENTS)})
    fuzz(f"{forge} webhook", st.tuples(bodies(docs), events | HEADERS), check)


def test_chatops_parser() -> None:
    words = st.sampled_from(["/hoist", "approve", "hold", "resume", "abort", "retry", "promote",
                             "status", "help", "unquarantine", "prod", ">", "```", "`", "\n",
                             " ", "\r\n", "@hoist", "/HOIST", "\t"])
    lines = st.lists(words | st.text(max_size=6), max_size=6).map(" ".join)
    text = st.one_of(st.text(max_size=120), st.lists(lines, max_size=6).map("\n".join))

    def check(body: str) -> str:
        return "command" if parse_commands(body) else "none"

    fuzz("chatops", text, check)


# --- every HTTP operation, generated from the app's own OpenAPI schema -------------------

OPERATIONS = ["POST /webhooks/registry/{source}", "POST /webhooks/github",
              "POST /webhooks/gitlab", "POST /webhooks/gitea", "POST /webhooks/bitbucket",
              "POST /webhooks/bitbucket-datacenter", "POST /webhooks/azure-devops",
              "GET /api/promotions",
              "GET /api/promotions/{pid}", "POST /api/promotions/{pid}/{command}",
              "POST /api/promotions/{pid}/override-window",
              "POST /api/environments/{env}/{command}"]
CONSTANT = ["GET /healthz", "GET /readyz", "GET /metrics"]  # no inputs: one case is all there is
EVENTS = ["package", "registry_package", "issue_comment", "pull_request", "pull_request_review",
          "ping", "push", "pull_request_comment", "pull_request_approved"]
BITBUCKET_EVENTS = ["pullrequest:comment_created", "pullrequest:approved", "repo:push",
                    "pullrequest:fulfilled", "pullrequest:rejected", "pullrequest:created"]
BITBUCKET_DC_EVENTS = ["pr:comment:added", "pr:comment:edited", "pr:reviewer:approved",
                       "pr:merged", "pr:declined", "pr:deleted", "pr:opened",
                       "repo:refs_changed", "diagnostics:ping"]


@pytest.fixture
def api(tmp_path: Path, services: Services) -> Iterator[tuple[Any, httpx.AsyncClient, dict[str, Any]]]:
    """The app, an in-process client (ASGI: no thread hop per request) and its schema, with
    the `source` path parameter narrowed to the known sources so bodies reach the parsers
    (unknown sources are test_app's business). Logs are silenced: 10,000 refusals each."""
    app = create_app(Settings(manifests_repo="unused", data_dir=tmp_path, webhook_secret="s",
                              github_webhook_secret="g", gitlab_webhook_secret="gl",
                              gitea_webhook_secret="gt", bitbucket_webhook_secret="bb",
                              bitbucket_dc_webhook_secret="bb", azure_devops_webhook_secret="az",
                              api_token="a"), services)
    spec = app.openapi()
    for parameter in spec["paths"]["/webhooks/registry/{source}"]["post"]["parameters"]:
        if parameter["name"] == "source":
            parameter["schema"] = {"type": "string", "enum": sorted(SOURCES)}
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hoist")
    loop = asyncio.new_event_loop()
    saved = structlog.get_config()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.CRITICAL))
    yield loop, client, spec
    structlog.configure(**saved)
    loop.run_until_complete(client.aclose())
    loop.close()


def _credentials(case: Any, body: bytes, valid: bool, event: str) -> dict[str, str]:
    """Generated headers, and for every other case valid credentials (a signature for GitHub)."""
    headers = {k: str(v) for k, v in (case.headers or {}).items()}
    if valid and case.path == "/webhooks/github":
        headers["X-Hub-Signature-256"] = "sha256=" + hmac.new(b"g", body, hashlib.sha256).hexdigest()
        headers["X-GitHub-Event"] = event
    elif valid and case.path == "/webhooks/gitlab":
        headers["X-Gitlab-Token"] = "gl"
    elif valid and case.path == "/webhooks/azure-devops":
        headers["Authorization"] = "Basic " + base64.b64encode(b"hoist:az").decode()
    elif valid and case.path == "/webhooks/gitea":
        headers["X-Gitea-Signature"] = hmac.new(b"gt", body, hashlib.sha256).hexdigest()
        headers["X-Gitea-Event"] = event
    elif valid and case.path == "/webhooks/bitbucket-datacenter":
        headers["X-Hub-Signature"] = "sha256=" + hmac.new(b"bb", body, hashlib.sha256).hexdigest()
        headers["X-Event-Key"] = BITBUCKET_DC_EVENTS[len(body) % len(BITBUCKET_DC_EVENTS)]
    elif valid and case.path == "/webhooks/bitbucket":
        headers["X-Hub-Signature"] = "sha256=" + hmac.new(b"bb", body, hashlib.sha256).hexdigest()
        headers["X-Event-Key"] = BITBUCKET_EVENTS[EVENTS.index(event) % len(BITBUCKET_EVENTS)]
    elif valid:
        headers["Authorization"] = "Bearer s" if case.path.startswith("/webhooks/") else "Bearer a"
    return headers


@pytest.mark.parametrize("operation", OPERATIONS)
def test_api_operation_never_answers_5xx(operation: str, api: tuple[Any, httpx.AsyncClient,
                                                                      dict[str, Any]]) -> None:
    loop, client, spec = api
    method, path = operation.split(" ")
    schema = schemathesis.openapi.from_dict(spec)
    (found,) = [r.ok() for r in schema.get_all_operations()
                if isinstance(r, Ok) and r.ok().method.upper() == method and r.ok().path == path]
    sent = Counter[str]()

    def check(case_and_event: tuple[Any, str]) -> str:
        case, event = case_and_event
        kwargs = case.as_transport_kwargs(base_url="http://hoist")
        body = kwargs.get("data") or b""
        if not isinstance(body, bytes):
            body = json.dumps(body).encode() if not isinstance(body, str) else body.encode()
        sent["n"] += 1
        headers = _credentials(case, body, sent["n"] % 2 == 0, event)
        response = loop.run_until_complete(client.request(
            method, kwargs["url"], params=kwargs.get("params"), headers=headers, content=body))
        assert response.status_code < 500, (operation, response.status_code, response.text)
        assert isinstance(response.json(), (dict, list)), response.text  # JSON, never a page
        return str(response.status_code)

    fuzz(f"api {operation}", st.tuples(found.as_strategy(), st.sampled_from(EVENTS)), check)


def test_schema_lists_exactly_the_fuzzed_operations(api: tuple[Any, httpx.AsyncClient,
                                                                 dict[str, Any]]) -> None:
    loop, client, spec = api
    listed = {f"{m.upper()} {p}" for p, ops in spec["paths"].items() for m in ops}
    assert listed == set(OPERATIONS) | set(CONSTANT)  # a new route must join the fuzzing
    for operation in CONSTANT:
        response = loop.run_until_complete(client.get(operation.split(" ")[1]))
        assert response.status_code < 500


def test_zz_report_cases(capsys: pytest.CaptureFixture[str]) -> None:
    """Print how many cases each target got (read by the closing note) and check the API
    operations each got CASES."""
    with capsys.disabled():
        for target, seen in sorted(SEEN.items()):
            print(f"\n[fuzz] {target}: {sum(seen.values())} cases {dict(seen.most_common(4))}")
    done = {k: sum(v.values()) for k, v in SEEN.items()}
    assert all(n >= CASES for n in done.values()), done
