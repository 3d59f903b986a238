"""A loopback double of the GitLab REST API v4 endpoints Hoist uses (through python-gitlab),
backed by a real bare repository: merge-request source branches are real refs, merges are
real git commits made the way GitLab's default merge method makes them (a squash commit,
then a merge commit above it), and source branches are removed when asked. Responses are
GitLab's published examples (shared/fixtures/gitlab/api) with the fields that change
filled in."""

from __future__ import annotations

import copy
import json
import re
from typing import Any, ClassVar
from urllib.parse import unquote

from tests.forge_double import LADDER, ForgeDouble, Reply
from tests.support import FIXTURES

EXAMPLES = FIXTURES / "gitlab" / "api"
# Hoist's ladder onto GitLab access levels (Guest 10, Reporter 20, Developer 30,
# Maintainer 40, Owner 50).
LEVELS = {"read": 10, "triage": 20, "write": 30, "maintain": 40, "admin": 50}
P = r"/api/v4/projects/(?P<pid>[^/]+)"


def example(name: str) -> Any:
    return json.loads((EXAMPLES / f"{name}.json").read_text())


class GitLabDouble(ForgeDouble):
    kind = "gitlab"
    # The project GitLab's published note example is about (note_merge_request.json:
    # gitlab-org/gitlab-test, id 5), so its deliveries are this project's; examples about
    # other projects (merge_request_*.json: 32059612) are deliveries from elsewhere, which
    # Hoist confirms by reading them back here.
    repository_id = 5
    REACTIONS: ClassVar[dict[str, str]] = {"+1": "thumbsup", "confused": "confused"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.merge_method = "merge"  # the project's: "merge" (GitLab's default) or "ff"
        self.detailed_merge_status = "mergeable"
        self.users = {self.bot_login: 1}

    def _project(self, m: re.Match[str]) -> bool:
        pid = unquote(m.group("pid"))
        return pid in (self.full_name, str(self.repository_id))

    def user_json(self, login: str) -> dict[str, Any]:
        uid = self.users.setdefault(login, len(self.users) + 1)
        data = dict(example("merge_request_get")["author"])
        data.update(id=uid, username=login, name=login.title(),
                    web_url=f"https://gitlab.example/{login}")
        return data

    def mr_json(self, iid: int) -> dict[str, Any]:
        pull = self.pulls[iid]
        data: dict[str, Any] = copy.deepcopy(example("merge_request_get"))
        state = "merged" if pull["merged"] else ("opened" if pull["state"] == "open"
                                                 else "closed")
        data.update(
            id=iid * 1000 + 7, iid=iid, project_id=self.repository_id, title=pull["title"],
            description=pull["body"], state=state, target_branch=pull["base"],
            source_branch=pull["head"], labels=list(pull["labels"]),
            source_project_id=self.repository_id, target_project_id=self.repository_id,
            sha=pull["merged_head"] or self.sha(pull["head"]) or "0" * 40,
            merge_commit_sha=pull["merge_commit_sha"],
            squash_commit_sha=pull["squash_commit_sha"], draft=False, work_in_progress=False,
            has_conflicts=False, reference=f"!{iid}", author=self.user_json(self.bot_login),
            web_url=f"https://gitlab.example/{self.full_name}/-/merge_requests/{iid}",
            detailed_merge_status="not_open" if state != "opened" else
            self.detailed_merge_status,
            merged_at="2026-01-01T00:00:00.000Z" if pull["merged"] else None,
        )
        return data

    # merge requests --------------------------------------------------------------------------

    def list_mrs(self, query: dict[str, Any], body: Any, m: re.Match[str]) -> Reply:
        if not self._project(m):
            return 404, {"message": "404 Project Not Found"}
        state = {"opened": "open", "closed": "closed", "merged": "merged"}.get(
            query.get("state", "all"))
        found = []
        for iid, pull in sorted(self.pulls.items()):
            current = "merged" if pull["merged"] else pull["state"]
            if state and current != state:
                continue
            if query.get("source_branch") not in (None, pull["head"]):
                continue
            if query.get("target_branch") not in (None, pull["base"]):
                continue
            found.append(self.mr_json(iid))
        return 200, found

    def create_mr(self, query: dict[str, Any], body: dict[str, Any], m: re.Match[str]) -> Reply:
        head, base = body.get("source_branch", ""), body.get("target_branch", "")
        if self.sha(head) is None or self.sha(base) is None:
            return 400, {"message": {"source_branch": ["is invalid"]}}
        for iid, pull in self.pulls.items():
            if pull["head"] == head and pull["state"] == "open":
                # app/models/merge_request.rb: one open merge request per source branch.
                return 409, {"message": ["Another open merge request already exists for "
                                         f"this source branch: !{iid}"]}
        iid = self.add_pull(head, base, body.get("title", ""), body.get("description") or "")
        self.pulls[iid]["labels"] = [x for x in str(body.get("labels") or "").split(",") if x]
        self.pulls[iid]["remove_source_branch"] = bool(body.get("remove_source_branch"))
        return 201, self.mr_json(iid)

    def get_mr(self, query: dict[str, Any], body: Any, m: re.Match[str]) -> Reply:
        iid = int(m.group("iid"))
        if iid not in self.pulls:
            return 404, {"message": "404 Not found"}
        return 200, self.mr_json(iid)

    def edit_mr(self, query: dict[str, Any], body: dict[str, Any], m: re.Match[str]) -> Reply:
        iid = int(m.group("iid"))
        pull = self.pulls[iid]
        if "title" in body:
            pull["title"] = body["title"]
        if "description" in body:
            pull["body"] = body["description"]
        for label in str(body.get("add_labels") or "").split(","):
            if label and label not in pull["labels"]:
                pull["labels"].append(label)
        if body.get("state_event") == "close" and not pull["merged"]:
            pull["state"] = "closed"
        return 200, self.mr_json(iid)

    def merge_mr(self, query: dict[str, Any], body: dict[str, Any], m: re.Match[str]) -> Reply:
        iid = int(m.group("iid"))
        pull = self.pulls[iid]
        if self.merge_refusal or pull["merged"] or pull["state"] != "open":
            if self.merge_refusal:
                self.detailed_merge_status = self.merge_refusal
            return 405, {"message": "405 Method Not Allowed"}
        squash = bool(body.get("squash"))
        message = body.get("squash_commit_message" if squash else "merge_commit_message") or \
            pull["title"]
        title, _, rest = message.partition("\n\n")
        merge_message = None
        if self.merge_method == "merge" and squash:
            merge_message = body.get("merge_commit_message") or \
                f"Merge branch '{pull['head']}' into '{pull['base']}'"
        landed = self.land(iid, "squash" if squash or self.merge_method == "ff" else "merge",
                           title, rest, body.get("sha"), merge_message)
        if not isinstance(landed, str):
            if landed[0] == 409:
                return 409, {"message": "SHA does not match HEAD of source branch: "
                                        f"{self.sha(pull['head'])}"}
            return 406, {"message": "Branch cannot be merged"}
        if body.get("should_remove_source_branch") or pull.get("remove_source_branch"):
            self.git("update-ref", "-d", f"refs/heads/{pull['head']}")
        # As in the published "Merge a merge request" example: the reply's merge_commit_sha
        # may still be empty; reading the merge request again gives it.
        data = {**example("merge_request_merge"), **self.mr_json(iid)}
        data.update(merge_commit_sha=None, squash_commit_sha=None)
        return 200, data

    # notes, emoji, members -------------------------------------------------------------------

    def note_json(self, iid: int, note_id: int, body: str, login: str) -> dict[str, Any]:
        data = dict(example("note_create_merge_request"))
        author = dict(data["author"])
        author.update(id=self.users.setdefault(login, len(self.users) + 1), username=login)
        data.update(id=note_id, body=body, author=author, noteable_iid=iid,
                    noteable_id=iid * 1000 + 7, noteable_type="MergeRequest", system=False)
        return data

    def create_note(self, query: dict[str, Any], body: dict[str, Any], m: re.Match[str]
                    ) -> Reply:
        iid = int(m.group("iid"))
        note_id = self.add_comment(iid, body["body"], self.bot_login)
        return 201, self.note_json(iid, note_id, body["body"], self.bot_login)

    def get_note(self, query: dict[str, Any], body: Any, m: re.Match[str]) -> Reply:
        """GET .../merge_requests/:iid/notes/:note_id: 404 unless that merge request has
        the note."""
        iid, note_id = int(m.group("iid")), int(m.group("note"))
        note = next((c for c in self.comments.get(iid, []) if c["id"] == note_id), None)
        if not self._project(m) or note is None:
            return 404, {"message": "404 Not found"}
        return 200, self.note_json(iid, note_id, note["body"], note["user"])

    def approvals(self, query: dict[str, Any], body: Any, m: re.Match[str]) -> Reply:
        """GET .../merge_requests/:iid/approvals (merge_request_approvals.json): who approved
        (the double's reviews with state APPROVED)."""
        iid = int(m.group("iid"))
        if not self._project(m) or iid not in self.pulls:
            return 404, {"message": "404 Not found"}
        data = copy.deepcopy(example("merge_request_approvals"))
        approved = list(dict.fromkeys(r["user"] for r in self.reviews.get(iid, [])
                                      if r["state"] == "APPROVED"))
        data.update(id=iid * 1000 + 7, iid=iid, project_id=self.repository_id,
                    approved_by=[{"user": self.user_json(login)} for login in approved])
        return 200, data

    def award(self, query: dict[str, Any], body: dict[str, Any], m: re.Match[str]) -> Reply:
        name = body.get("name") or query.get("name")
        note_id = int(m.group("note"))
        if (note_id, name) in self.reactions:
            return 404, {"message": "404 Award Emoji Name has already been taken Not Found"}
        self.reactions.append((note_id, str(name)))
        data = dict(example("award_emoji_create"))
        data.update(id=self.new_id(), name=name, awardable_id=note_id, awardable_type="Note",
                    user=self.user_json(self.bot_login))
        return 201, data

    def member_json(self, login: str) -> dict[str, Any]:
        data = dict(example("project_member_all"))
        data.update(id=self.users.setdefault(login, len(self.users) + 1), username=login,
                    name=login.title(), state="active",
                    access_level=LEVELS.get(self.permissions.get(login, "none"), 0))
        return data

    def members_all(self, query: dict[str, Any], body: Any, m: re.Match[str]) -> Reply:
        needle = query.get("query", "").lower()
        return 200, [self.member_json(login) for login, role in sorted(self.permissions.items())
                     if role in LADDER[1:] and needle in login.lower()]

    def users_list(self, query: dict[str, Any], body: Any, m: re.Match[str]) -> Reply:
        login = query.get("username", "")
        known = login in self.users or login in self.permissions or any(
            login in members for members in self.team_members.values())
        return 200, [self.user_json(login)] if known else []

    def current_user(self, query: dict[str, Any], body: Any, m: re.Match[str]) -> Reply:
        return 200, self.user_json(self.bot_login)

    def get_project(self, query: dict[str, Any], body: Any, m: re.Match[str]) -> Reply:
        """GET /projects/:id (by id or URL-encoded path) with the token's `permissions`. The
        shared fixtures hold no project example: the fields Hoist reads, as
        docs/api/projects.md shows them."""
        if not self._project(m):
            return 404, {"message": "404 Project Not Found"}
        access = {"access_level": 40, "notification_level": 3}
        return 200, {"id": self.repository_id, "name": self.full_name.split("/")[-1],
                     "path": self.full_name.split("/")[-1],
                     "path_with_namespace": self.full_name, "default_branch": "main",
                     "web_url": f"https://gitlab.example/{self.full_name}",
                     "merge_method": self.merge_method,
                     "permissions": self.token_permissions.get(
                         self.caller, {"project_access": access, "group_access": None})}

    def group_member(self, query: dict[str, Any], body: Any, m: re.Match[str]) -> Reply:
        group, uid = unquote(m.group("gid")), int(m.group("uid"))
        login = next((name for name, i in self.users.items() if i == uid), None)
        if login is None or login not in self.team_members.get(group, set()):
            return 404, {"message": "404 Not found"}
        data = self.member_json(login)
        data["access_level"] = 30
        return 200, data


GitLabDouble.ROUTES = [
    ("GET", r"/api/v4/user$", GitLabDouble.current_user),
    ("GET", r"/api/v4/users$", GitLabDouble.users_list),
    ("GET", P + r"$", GitLabDouble.get_project),
    ("GET", P + r"/merge_requests$", GitLabDouble.list_mrs),
    ("GET", P + r"/merge_requests/(?P<iid>\d+)/notes/(?P<note>\d+)$", GitLabDouble.get_note),
    ("GET", P + r"/merge_requests/(?P<iid>\d+)/approvals$", GitLabDouble.approvals),
    ("POST", P + r"/merge_requests$", GitLabDouble.create_mr),
    ("GET", P + r"/merge_requests/(?P<iid>\d+)$", GitLabDouble.get_mr),
    ("PUT", P + r"/merge_requests/(?P<iid>\d+)$", GitLabDouble.edit_mr),
    ("PUT", P + r"/merge_requests/(?P<iid>\d+)/merge$", GitLabDouble.merge_mr),
    ("POST", P + r"/merge_requests/(?P<iid>\d+)/notes$", GitLabDouble.create_note),
    ("POST", P + r"/merge_requests/(?P<iid>\d+)/notes/(?P<note>\d+)/award_emoji$",
     GitLabDouble.award),
    ("GET", P + r"/members/all$", GitLabDouble.members_all),
    ("GET", r"/api/v4/groups/(?P<gid>[^/]+)/members/all/(?P<uid>\d+)$",
     GitLabDouble.group_member),
]
