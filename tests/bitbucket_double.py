"""A loopback double of the Bitbucket Cloud REST API 2.0 endpoints Hoist uses (and the 1.0
groups endpoint), backed by a real bare repository: pull-request heads are real refs,
merges are real git commits. Answers are the published examples in
shared/fixtures/bitbucket-cloud/api with the fields that change filled in, hashes
shortened to 12 hex digits as Bitbucket gives them in pull requests; where none was
published (the repository, a commit, group members) the shape is the API reference's
schema, built from the objects the examples embed.

Bitbucket has no labels: the double reads Hoist's stand-in, the description's last line
`Hoist-Labels: a, b`, into `labels` (and keeps `body` without it), so the shared contract
checks the same thing on every forge. It has no reactions either: a reply (`parent`) is
recorded in `reactions` as (parent id, the reply's first word), its mark."""

from __future__ import annotations

import copy
import json
import re
import uuid
from typing import Any, ClassVar
from urllib.parse import urlencode

from tests.forge_double import ForgeDouble, Reply
from tests.support import FIXTURES

EXAMPLES = FIXTURES / "bitbucket-cloud" / "api"
HOOKS = FIXTURES / "bitbucket-cloud" / "webhooks"
R = r"/2\.0/repositories/(?P<ws>[^/]+)/(?P<slug>[^/]+)"
P = R + r"/pullrequests/(?P<n>\d+)"
# Hoist's ladder onto Bitbucket's repository permissions (no triage, no maintain).
ROLES = {"read": "read", "triage": "read", "write": "write", "maintain": "write",
         "admin": "admin"}
LABELS = re.compile(r"\n\nHoist-Labels: ([^\n]*)$")


def example(name: str) -> Any:
    return json.loads((EXAMPLES / f"{name}.json").read_text())


def error(status: int, message: str) -> Reply:
    """Bitbucket's error body (error_not_found.json)."""
    data = example("error_not_found")
    data["error"]["message"] = message
    return status, data


def uuid_of(value: int | str) -> str:
    """A repository uuid: given, or made from a number (its decimal digits at the end)."""
    return value if isinstance(value, str) else f"{{00000000-0000-0000-0000-{value:012d}}}"


class BitbucketDouble(ForgeDouble):
    kind = "bitbucket"
    # The repository pullrequest_comment_created.json is about: its deliveries are ours.
    repository_id = "{4402cbae-7790-453a-b29e-5fcab61a84df}"
    REACTIONS: ClassVar[dict[str, str]] = {"+1": "\N{WHITE HEAVY CHECK MARK}",
                                           "confused": "\N{BLACK QUESTION MARK ORNAMENT}"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.statuses: dict[str, dict[str, dict[str, Any]]] = {}  # sha -> key -> status

    @property
    def api_url(self) -> str:
        return f"{self.url}/2.0"

    def user_json(self, login: str) -> dict[str, Any]:
        data = dict(example("pullrequest_comment_create")["user"])
        data.update(account_id=login, nickname=login, display_name=login.title(),
                    uuid="{" + str(uuid.uuid5(uuid.NAMESPACE_URL, login)) + "}")
        return data

    def _links(self, path: str) -> dict[str, Any]:
        return {"self": {"href": f"{self.api_url}/repositories/{self.full_name}{path}"},
                "html": {"href": f"https://bitbucket.org/{self.full_name}"
                                 f"{path.replace('pullrequests', 'pull-requests')}"}}

    def repository_json(self) -> dict[str, Any]:
        data: dict[str, Any] = copy.deepcopy(json.loads((HOOKS / "pullrequest_comment_created.json")
                                        .read_text())["repository"])
        data.update(uuid=self.repository_id, full_name=self.full_name,
                    name=self.full_name.split("/")[1], links=self._links(""))
        return data

    def pull_json(self, number: int) -> dict[str, Any]:
        pull = self.pulls[number]
        data: dict[str, Any] = copy.deepcopy(example("pullrequest_get"))
        state = "MERGED" if pull["merged"] else "OPEN" if pull["state"] == "open" else \
            "DECLINED"
        labels = f"\n\nHoist-Labels: {', '.join(pull['labels'])}" if pull["labels"] else ""
        data.update(id=number, title=pull["title"], description=pull["body"] + labels,
                    state=state, links=self._links(f"/pullrequests/{number}"),
                    author=self.user_json(self.bot_login),
                    merge_commit={"hash": pull["merge_commit_sha"][:12]}
                    if pull["merged"] else None,
                    participants=[{"type": "participant", "role": "PARTICIPANT",
                                   "approved": r["state"] == "APPROVED", "state": None,
                                   "user": self.user_json(r["user"]),
                                   "participated_on": "2026-01-01T00:00:00+00:00"}
                                  for r in self.reviews.get(number, [])])
        for side, key in (("source", "head"), ("destination", "base")):
            sha = pull["merged_head"] if key == "head" and pull["merged_head"] else \
                self.sha(pull[key])
            data[side]["branch"]["name"] = pull[key]
            data[side]["commit"]["hash"] = (sha or "0" * 40)[:12]
            data[side]["repository"] = self.repository_json()
        return data

    def _take_labels(self, number: int, description: str) -> None:
        found = LABELS.search(description)
        pull = self.pulls[number]
        pull["body"] = description[:found.start()] if found else description
        pull["labels"] = [n.strip() for n in found.group(1).split(",")] if found else []

    def _page(self, values: list[Any], query: dict[str, Any], path: str) -> dict[str, Any]:
        size, page = int(query.get("pagelen", 10)), int(query.get("page", 1))
        data: dict[str, Any] = {"pagelen": size, "size": len(values), "page": page,
                                "values": values[(page - 1) * size:page * size]}
        if page * size < len(values):
            rest = urlencode({**query, "page": page + 1})
            data["next"] = f"{self.url}{path}?{rest}"
        return data

    def list_pulls(self, query: dict[str, Any], body: Any, m: re.Match[str]) -> Reply:
        """`state` and the `q` filters Hoist sends (source/destination.branch.name)."""
        wanted = dict(re.findall(r'(source|destination)\.branch\.name="([^"]*)"',
                                 query.get("q", "")))
        state = query.get("state", "OPEN")
        found = [self.pull_json(n) for n in sorted(self.pulls, reverse=True)]
        found = [p for p in found if p["state"] == state and all(
            p[side]["branch"]["name"] == name for side, name in wanted.items())]
        return 200, self._page(found, query, m.group(0))

    def create_pull(self, query: dict[str, Any], body: dict[str, Any], m: re.Match[str]
                    ) -> Reply:
        head, base = body["source"]["branch"]["name"], body["destination"]["branch"]["name"]
        if self.sha(head) is None or self.sha(base) is None:
            return error(400, f"branch not found: {head if self.sha(head) is None else base}")
        if any(p["head"] == head and p["base"] == base and p["state"] == "open"
               for p in self.pulls.values()):
            return error(400, f"There is already an open pull request from {head} to {base}")
        number = self.add_pull(head, base, body.get("title", ""), "")
        self._take_labels(number, body.get("description") or "")
        return 201, self.pull_json(number)

    def get_pull(self, query: dict[str, Any], body: Any, m: re.Match[str]) -> Reply:
        number = int(m.group("n"))
        if number not in self.pulls:
            return error(404, f"Pull request {number} not found")
        return 200, self.pull_json(number)

    def edit_pull(self, query: dict[str, Any], body: dict[str, Any], m: re.Match[str]
                  ) -> Reply:
        number = int(m.group("n"))
        self.pulls[number]["title"] = body.get("title", self.pulls[number]["title"])
        if "description" in body:
            self._take_labels(number, body["description"])
        return 200, self.pull_json(number)

    def merge_pull(self, query: dict[str, Any], body: dict[str, Any], m: re.Match[str]
                   ) -> Reply:
        """merge_commit or squash with `message`; 400 with a reason when it cannot."""
        number = int(m.group("n"))
        pull = self.pulls[number]
        if pull["state"] != "open":
            return error(400, "You can't merge a pull request that is not open.")
        if self.merge_refusal:
            return error(400, self.merge_refusal)
        strategy = body.get("merge_strategy", "merge_commit")
        if strategy not in ("merge_commit", "squash"):
            return error(400, f"{strategy} is not allowed by this repository's settings")
        landed = self.land(number, "merge" if strategy == "merge_commit" else "squash",
                           body.get("message") or pull["title"], "")
        if not isinstance(landed, str):
            return error(400, landed[1])
        return 200, self.pull_json(number)

    def decline(self, query: dict[str, Any], body: Any, m: re.Match[str]) -> Reply:
        self.pulls[int(m.group("n"))]["state"] = "closed"
        return 200, self.pull_json(int(m.group("n")))

    def comment_json(self, number: int, comment: dict[str, Any]) -> dict[str, Any]:
        data: dict[str, Any] = copy.deepcopy(example("pullrequest_comment_create"))
        data.update(id=comment["id"], user=self.user_json(comment["user"]),
                    links=self._links(f"/pullrequests/{number}/comments/{comment['id']}"))
        data["content"].update(raw=comment["body"], html=f"<p>{comment['body']}</p>")
        data["pullrequest"].update(id=number, title=self.pulls[number]["title"],
                                   links=self._links(f"/pullrequests/{number}"))
        if comment.get("parent"):
            data["parent"] = {"id": comment["parent"]}
        return data

    def create_comment(self, query: dict[str, Any], body: dict[str, Any], m: re.Match[str]
                       ) -> Reply:
        number = int(m.group("n"))
        said = body["content"]["raw"]
        comment_id = self.add_comment(number, said, self.bot_login)
        parent = (body.get("parent") or {}).get("id")
        comment = next(c for c in self.comments[number] if c["id"] == comment_id)
        comment["parent"] = parent
        if parent is not None:
            self.reactions.append((int(parent), said.split()[0] if said.split() else ""))
        return 201, self.comment_json(number, comment)

    def _comment(self, m: re.Match[str]) -> dict[str, Any] | None:
        number = int(m.group("n"))
        return next((c for c in self.comments.get(number, []) if c["id"] == int(m.group("id"))),
                    None)

    def get_comment(self, query: dict[str, Any], body: Any, m: re.Match[str]) -> Reply:
        found = self._comment(m)
        if found is None:
            return error(404, "Comment not found")
        return 200, self.comment_json(int(m.group("n")), found)

    def edit_comment(self, query: dict[str, Any], body: dict[str, Any], m: re.Match[str]
                     ) -> Reply:
        found = self._comment(m)
        if found is None:
            return error(404, "Comment not found")
        found["body"] = body["content"]["raw"]
        return 200, self.comment_json(int(m.group("n")), found)

    def commit(self, query: dict[str, Any], body: Any, m: re.Match[str]) -> Reply:
        """GET .../commit/{revision}: the commit's full hash (the example's embedded commit)."""
        found = self.git("rev-parse", "--verify", "-q", m.group("rev") + "^{commit}",
                         check=False).stdout.strip()
        if not found:
            return error(404, f"Commit {m.group('rev')} not found")
        data = copy.deepcopy(example("commit_status_build")["commit"])
        data.update(hash=found, links=self._links(f"/commit/{found}"))
        return 200, data

    def build_status(self, query: dict[str, Any], body: dict[str, Any], m: re.Match[str]
                     ) -> Reply:
        """POST .../commit/{sha}/statuses/build: created (201), or updated by its key."""
        data = copy.deepcopy(example("commit_status_build"))
        data.update({k: body[k] for k in ("key", "state", "name", "url", "description")
                     if k in body})
        data["commit"]["hash"] = m.group("rev")
        known = self.statuses.setdefault(m.group("rev"), {})
        status = 200 if body["key"] in known else 201
        known[body["key"]] = data
        return status, data

    def permission(self, query: dict[str, Any], body: Any, m: re.Match[str]) -> Reply:
        """The workspace's repository permissions, filtered by `q=user.account_id="…"`."""
        who = re.search(r'user\.(?:account_id|uuid)="([^"]*)"', query.get("q", ""))
        login = who.group(1) if who else ""
        role = "admin" if login == self.bot_login else ROLES.get(
            self.permissions.get(login, "none"))
        data = example("workspace_permissions_repositories")
        values = []
        if role:
            value = data["values"][0]
            value.update(permission=role, user=self.user_json(login))
            value["repository"].update(full_name=self.full_name, uuid=self.repository_id)
            values.append(value)
        return 200, self._page(values, query, m.group(0))

    def user_permissions(self, query: dict[str, Any], body: Any, m: re.Match[str]) -> Reply:
        """GET /user/permissions/repositories (the start-up check): the caller's permission
        (`token_permissions`: token -> admin, write, read or None for no access)."""
        role = self.token_permissions.get(self.caller, "write")
        if not role:
            return 200, example("user_permissions_repositories_empty")
        data = example("user_permissions_repositories_write")
        data["values"][0]["permission"] = role
        return 200, data

    def current_user(self, query: dict[str, Any], body: Any, m: re.Match[str]) -> Reply:
        return 200, self.user_json(self.bot_login)

    def get_repo(self, query: dict[str, Any], body: Any, m: re.Match[str]) -> Reply:
        if f"{m.group('ws')}/{m.group('slug')}" != self.full_name:
            return error(404, f"Repository {m.group('ws')}/{m.group('slug')} not found")
        return 200, self.repository_json()

    def group_members(self, query: dict[str, Any], body: Any, m: re.Match[str]) -> Reply:
        """GET /1.0/groups/{workspace}/{slug}/members: a list of users; 404 for no group."""
        team = f"{m.group('ws')}/{m.group('slug')}"
        if team not in self.team_members:
            return 404, {"type": "error", "error": {"message": "Group not found"}}
        return 200, [self.user_json(login) for login in sorted(self.team_members[team])]


BitbucketDouble.ROUTES = [
    ("GET", r"/2\.0/user$", BitbucketDouble.current_user),
    ("GET", r"/2\.0/user/permissions/repositories$", BitbucketDouble.user_permissions),
    ("GET", r"/2\.0/workspaces/[^/]+/permissions/repositories/[^/]+$",
     BitbucketDouble.permission),
    ("GET", r"/1\.0/groups/(?P<ws>[^/]+)/(?P<slug>[^/]+)/members$",
     BitbucketDouble.group_members),
    ("GET", R + r"$", BitbucketDouble.get_repo),
    ("GET", R + r"/commit/(?P<rev>[0-9a-f]+)$", BitbucketDouble.commit),
    ("POST", R + r"/commit/(?P<rev>[0-9a-f]+)/statuses/build$", BitbucketDouble.build_status),
    ("GET", R + r"/pullrequests$", BitbucketDouble.list_pulls),
    ("POST", R + r"/pullrequests$", BitbucketDouble.create_pull),
    ("GET", P + r"$", BitbucketDouble.get_pull),
    ("PUT", P + r"$", BitbucketDouble.edit_pull),
    ("POST", P + r"/merge$", BitbucketDouble.merge_pull),
    ("POST", P + r"/decline$", BitbucketDouble.decline),
    ("POST", P + r"/comments$", BitbucketDouble.create_comment),
    ("GET", P + r"/comments/(?P<id>\d+)$", BitbucketDouble.get_comment),
    ("PUT", P + r"/comments/(?P<id>\d+)$", BitbucketDouble.edit_comment),
]
