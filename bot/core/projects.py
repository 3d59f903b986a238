"""The projects file (`HOIST_PROJECTS`, `hoist check --projects FILE`): the manifests
repositories one Hoist serves, each with its hoist.yaml, its forge and the names of its
credentials. Pure: credentials are named here (an environment variable or a file), never
read and never written inline.

    projects:
      - name: shop                     # [a-z0-9-], used in URLs and `--project`
        repo: https://github.com/acme/shop-manifests.git   # any git URL; file:// works
        config: hoist.yaml             # path in the repo (default hoist.yaml)
        forge: {kind: github, token_env: SHOP_GITHUB_TOKEN}

Without a projects file, `HOIST_MANIFESTS_REPO` is one project named `default`."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from .yaml_lines import FieldProblem, load_model

DEFAULT = "default"
NAME = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
KINDS = ("local", "github", "gitlab", "gitea", "bitbucket", "bitbucket-datacenter",
         "azure-devops")
# Secrets a forge entry may name: each as `<secret>_env` (a variable) or `<secret>_file`.
SECRETS = ("token", "webhook_secret", "private_key")
_ENV = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class ProjectsError(ValueError):
    """The projects file is invalid; each problem is one 'file:line: field: message'."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Forge(_Model):
    """A project's forge: `kind`, where it is (`url`: the API or server base; `repository`:
    owner/name, group/project, PROJECT/repo...) and its credentials by name only:
    `token_env`/`token_file`, `webhook_secret_env`/`_file`, `private_key_env`/`_file`
    (a GitHub App, with `app_id`). An inline `token:` is refused."""

    kind: str = "local"
    url: str | None = None
    repository: str | None = None
    app_id: str | None = None
    token_env: str | None = None
    token_file: str | None = None
    webhook_secret_env: str | None = None
    webhook_secret_file: str | None = None
    private_key_env: str | None = None
    private_key_file: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _no_inline_secrets(cls, value: Any) -> Any:
        if isinstance(value, dict):
            for secret in (*SECRETS, "password", "secret"):
                if secret in value:
                    raise FieldProblem((secret,), "credentials are named, never inline: "
                                       f"give {secret}_env (a variable) or {secret}_file")
        return value

    @field_validator("kind")
    @classmethod
    def _kind(cls, value: str) -> str:
        if value not in KINDS:
            raise ValueError(f"unknown forge {value!r}; one of {', '.join(KINDS)}")
        return value

    @field_validator("token_env", "webhook_secret_env", "private_key_env")
    @classmethod
    def _variable(cls, value: str | None) -> str | None:
        if value is not None and not _ENV.fullmatch(value):
            raise ValueError(f"{value!r} is not an environment variable's name")
        return value

    @model_validator(mode="after")
    def _one_source(self) -> Forge:
        for secret in SECRETS:
            if getattr(self, f"{secret}_env") and getattr(self, f"{secret}_file"):
                raise FieldProblem((f"{secret}_file",),
                                   f"give {secret}_env or {secret}_file, not both")
        return self

    def source(self, secret: str) -> tuple[str, str] | None:
        """('env', NAME) or ('file', PATH) for one of SECRETS, or None when unnamed."""
        env, file = getattr(self, f"{secret}_env"), getattr(self, f"{secret}_file")
        return ("env", env) if env else ("file", file) if file else None


class Project(_Model):
    """One manifests repository served by this Hoist."""

    name: str
    repo: str
    config: str = "hoist.yaml"
    forge: Forge = Forge()

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not NAME.fullmatch(value):
            raise ValueError(f"{value!r}: use a-z, 0-9 and '-' (at most 63, not starting or "
                             "ending with '-'); it is used in URLs and --project")
        return value

    @field_validator("repo")
    @classmethod
    def _repo(cls, value: str) -> str:
        if not value.strip() or any(c.isspace() for c in value):
            raise ValueError(f"{value!r} is not a git URL (https://, ssh://, git@host:, "
                             "file://, or a path)")
        scheme, sep, rest = value.partition("://")
        userinfo = rest.split("/", 1)[0].rpartition("@")[0] if sep else ""
        if userinfo and (":" in userinfo or scheme.lower() in ("http", "https")):
            raise ValueError("credentials are named, never inline: take them out of the URL "
                             "and give forge.token_env (a variable) or forge.token_file")
        return value

    @field_validator("config")
    @classmethod
    def _config(cls, value: str) -> str:
        if not value or value.startswith("/") or ".." in value.split("/"):
            raise ValueError(f"{value!r} must be a relative path inside the repository")
        return value


class Projects(_Model):
    projects: list[Project]

    @model_validator(mode="after")
    def _unique(self) -> Projects:
        seen: dict[str, int] = {}  # "field:key" -> the first project's index
        for i, project in enumerate(self.projects):
            forge = project.forge
            # One repository, one project: two would race for its branches and change
            # requests, and forge webhooks (routed by repository) would reach only one.
            keys = {"name": project.name,
                    "repo": project.repo.rstrip("/").removesuffix(".git").lower()}
            if forge.repository:
                keys["forge"] = f"{forge.kind} {forge.url or ''} {forge.repository}".lower()
            for field, key in keys.items():
                other = seen.setdefault(f"{field}:{key}", i)
                if other == i:
                    continue
                if field == "name":
                    raise FieldProblem(("projects", i, "name"),
                                       f"duplicate project {project.name!r}")
                where = ("projects", i, *(("forge", "repository") if field == "forge"
                                          else ("repo",)))
                raise FieldProblem(where, f"the same repository as project "
                                   f"{self.projects[other].name!r}; a "
                                   "repository belongs to one project")
        if not self.projects:
            raise FieldProblem(("projects",), "lists no project")
        return self

    def get(self, name: str) -> Project | None:
        """The project called name, or None."""
        return next((p for p in self.projects if p.name == name), None)

    @property
    def names(self) -> list[str]:
        """Project names in file order."""
        return [p.name for p in self.projects]


def load_projects(text: str, filename: str = "projects.yaml") -> Projects:
    """Parse and validate a projects file; ProjectsError listing every problem, each as
    'file:line: field: message' (the lines hoist.yaml's errors use, core/yaml_lines.py)."""
    return load_model(Projects, text, filename, ProjectsError)


def single(repo: str, config: str = "hoist.yaml", kind: str = "local") -> Projects:
    """The one project `default` that HOIST_MANIFESTS_REPO stands for without a file. Not
    validated: the settings are checked where they are used (an unset repository is said
    by the command that needs one)."""
    forge = Forge.model_construct(kind=kind)
    project = Project.model_construct(name=DEFAULT, repo=repo, config=config, forge=forge)
    return Projects.model_construct(projects=[project])
