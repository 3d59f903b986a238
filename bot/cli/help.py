"""What each command's --help ends with: the environment variables it reads and an example.
(The options and their defaults come from argparse.)"""

from __future__ import annotations

import argparse

_STORE = "HOIST_DATABASE_URL (else HOIST_DATA_DIR/hoist.db; HOIST_DATA_DIR default .hoist)"


class Formatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Defaults shown beside each option; the epilog printed as written."""


def _epilog(env: list[str], *examples: str) -> str:
    lines = ["environment:", *(f"  {v}" for v in env)] if env else ["environment: none read"]
    return "\n".join([*lines, "", "example:", *(f"  {e}" for e in examples)])


EXAMPLES: dict[str, str] = {
    "serve": _epilog(
        ["HOIST_MANIFESTS_REPO (git URL; file:// needs a bare repository)",
         "HOIST_CONFIG (hoist.yaml's path in the repo, default hoist.yaml)",
         "HOIST_WEBHOOK_SECRET, HOIST_INSECURE_DEMO, HOIST_ROLE, HOIST_WORKERS",
         "HOIST_GITHUB_TOKEN | HOIST_GITHUB_APP_ID + HOIST_GITHUB_PRIVATE_KEY, "
         "HOIST_GITLAB_TOKEN, HOIST_GITEA_URL + HOIST_GITEA_TOKEN, HOIST_FORGE",
         "HOIST_BITBUCKET_TOKEN + HOIST_BITBUCKET_REPOSITORY (workspace/repo)",
         "HOIST_*_WEBHOOK_SECRET, HOIST_UI_TOKEN, HOIST_API_TOKEN, HOIST_PUBLIC_URL",
         "HOIST_CONFIG_MAX_AGE (seconds between fetches of hoist.yaml's branch, default 5)",
         _STORE],
        "HOIST_MANIFESTS_REPO=https://github.com/acme/manifests.git \\",
        "  HOIST_GITHUB_TOKEN=... HOIST_WEBHOOK_SECRET=... hoist serve --host 0.0.0.0"),
    "demo": _epilog([], "hoist demo --keep"),
    "parse-event": _epilog(
        [], "hoist parse-event --source harbor --header 'Authorization: x' body.json"),
    "check": _epilog([], "hoist check --config hoist.yaml", "hoist check --projects projects.yaml"),
    "init": _epilog([], "hoist init ./manifests --stdout"),
    "set-image": _epilog([], "hoist set-image apps/ --image ghcr.io/acme/web=ghcr.io/acme/web:1.4.2"),
    "plan": _epilog(["HOIST_RENDER (on: render the change with Kustomize/Helm; exit 1 when "
                     "it would be held)", "HOIST_RENDER_TIMEOUT"],
                    "hoist plan --config hoist.yaml --image ghcr.io/acme/web:1.4.2"),
    "audit": _epilog(["HOIST_CONFIG (hoist.yaml's path in the repo, default hoist.yaml)"],
                     "hoist audit --repo ./manifests --env prod --since 2024-01-01"),
    **{name: _epilog([_STORE, "HOIST_MANIFESTS_REPO, the forge's settings (as for serve)"],
                     f"hoist {name} 01J9Z3... --by alice" + (" --reason 'QA first'"
                                                             if name in ("hold", "abort") else ""))
       for name in ("approve", "retry", "abort", "hold", "resume", "unquarantine")},
    **{name: _epilog([_STORE, "HOIST_MANIFESTS_REPO, the forge's settings (as for serve)"],
                     f"hoist {name} --env prod --by alice"
                     + (" --reason 'incident 42'" if name == "freeze" else ""))
       for name in ("freeze", "unfreeze")},
    "db": _epilog([_STORE], "hoist db upgrade", "hoist db backup /backups/hoist.db"),
    "projects": _epilog(["HOIST_PROJECTS", _STORE], "hoist projects list"),
    "list": _epilog(["HOIST_PROJECTS", _STORE, "HOIST_PUBLIC_URL, HOIST_UI_TOKEN"],
                    "hoist projects list --url http://127.0.0.1:8080"),
    "upgrade": _epilog([_STORE, "HOIST_MIGRATE"], "hoist db upgrade"),
    "backup": _epilog([_STORE], "hoist db backup /backups/hoist-$(date +%F).db"),
    "restore": _epilog([_STORE], "hoist db restore /backups/hoist-2024-05-01.db"),
}


def document(parser: argparse.ArgumentParser) -> None:
    """Give every subcommand (and theirs) the Formatter and its EXAMPLES epilog."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                child.formatter_class = Formatter
                child.epilog = child.epilog or EXAMPLES.get(name)
                document(child)
