"""The scaffold as commented hoist.yaml text (pure): every guess marked `# guessed:`."""

from __future__ import annotations

import json
import re

from .model import EnvPlan, ImagePlan, Scaffold, whole_repo_note
from .tag_guess import TagGuess

_PLAIN = re.compile(r"[A-Za-z_./][A-Za-z0-9_./:@-]*")
_RESERVED = {"true", "false", "yes", "no", "on", "off", "null", "y", "n"}
_LISTED = 20  # shared references named in the closing comment before "… more"

HEADER = """\
# hoist.yaml written by `hoist init` from the manifests in this repository.
# Lines marked `guessed:` are Hoist's guesses from the files: read them before you commit.
# Check it with `hoist check --config hoist.yaml`; the documentation's hoist.yaml reference
# (docs/reference/hoist-yaml.md) has every field (canary steps, analysis, sync waits,
# freeze windows, trains).
"""


def quote(value: str) -> str:
    """value as a YAML scalar: plain when that reads back as the same string, else
    double-quoted (JSON's escaping is valid YAML)."""
    if _PLAIN.fullmatch(value) and value.lower() not in _RESERVED and ": " not in value:
        return value
    return json.dumps(value)


def _single(value: str) -> str:
    """A single-quoted scalar (regexes read best without backslash escapes)."""
    return "'" + value.replace("'", "''") + "'"


def _tags(guess: TagGuess) -> str:
    parts = []
    for name, value in guess.fields:
        if isinstance(value, bool):
            parts.append(f"{name}: {'true' if value else 'false'}")
        elif name == "regex":
            parts.append(f"{name}: {_single(value)}")
        else:
            parts.append(f"{name}: {json.dumps(value)}")
    return "{" + ", ".join(parts) + "}"


def _image(image: ImagePlan) -> list[str]:
    lines = [f"  {quote(image.key)}:",
             f"    repository: {quote(image.repository)}",
             f"    # guessed: {image.tags.note}",
             f"    tags: {_tags(image.tags)}"]
    if image.pin_note:
        lines.append(f"    pin: {quote(image.pin)}   # guessed: {image.pin_note}")
    return lines


def _environment(env: EnvPlan) -> list[str]:
    lines = [f"  - name: {env.name}"]
    lines += [f"    # guessed: {note}" for note in env.notes]
    if env.after:
        lines.append(f"    after: {env.after}")
    if env.gated:
        lines.append(f"    approval: manual   # guessed: {env.name} gated on one approval")
    else:
        lines.append("    approval: none")
    lines.append("    targets:")
    lines += [f"      - {{file: {quote(t.file)}, image: {quote(t.image)}}}" for t in env.targets]
    return lines


def render(found: Scaffold) -> str:
    """The hoist.yaml text: header, images, environments, then comments on what was left
    out (shared references, environments without references of their own)."""
    lines = [HEADER.rstrip("\n"), "", "images:"]
    for image in found.images:
        lines += _image(image)
    lines.append("")
    if found.whole_repo:
        lines.append(f"# guessed: {whole_repo_note(found.layout)}")
    elif len(found.environments) > 1:
        lines.append("# guessed: environment order "
                     + " → ".join(e.name for e in found.environments))
    lines.append("environments:")
    for env in found.environments:
        lines += _environment(env)
    return "\n".join(lines + _left_out(found)) + "\n"


def _left_out(found: Scaffold) -> list[str]:
    lines: list[str] = []
    if found.shared:
        lines += ["", "# Image references outside any environment, not targets (a change there "
                  "reaches every", "# environment that includes the file):"]
        lines += [f"#   {file}: {name}" for file, name in found.shared[:_LISTED]]
        if len(found.shared) > _LISTED:
            lines.append(f"#   … {len(found.shared) - _LISTED} more")
    if found.unplaced:
        lines += ["", "# Images only referenced there (no image entry): "
                  + ", ".join(found.unplaced)]
    if found.empty and not found.whole_repo:
        lines += ["", "# Environments named in the layout without an image reference of "
                  "their own: " + ", ".join(found.empty)]
    return lines
