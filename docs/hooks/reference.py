"""MkDocs hook: the references that must not drift, generated when the site is built.

- `<!-- generated: hoist.yaml -->` becomes the hoist.yaml reference, rendered from
  `Config.model_json_schema()` (bot/core/config.py); a field's description is the comment
  beside it (or just above it) in the model's source. The schema itself is served as
  `reference/hoist.schema.json`.
- `<!-- generated: cli COMMAND -->` becomes that subcommand's reference, rendered from
  `bot.cli.build_parser()`. Every subcommand must be placed exactly once and every marker
  must name a subcommand, or the build fails.
"""

from __future__ import annotations

import argparse
import inspect
import json
import re
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

from bot import cli
from bot.core import config as config_module
from bot.core import rollout_config, trains

CONFIG_MARKER = "<!-- generated: hoist.yaml -->"
CLI_MARKER = re.compile(r"<!-- generated: cli ([a-z -]+?) -->")
SCHEMA_URI = "reference/hoist.schema.json"
MODEL_MODULES: tuple[ModuleType, ...] = (config_module, rollout_config, trains)
DURATION = "duration (`30s`, `5m`, `1h`, `250ms`, or seconds)"

# --- hoist.yaml ----------------------------------------------------------------------------


def schema() -> dict[str, Any]:
    """hoist.yaml's JSON schema, as validation reads it (aliases, e.g. `json`)."""
    return config_module.Config.model_json_schema()


def _source_comments(name: str) -> dict[str, str]:
    """Field name (as written in hoist.yaml) → the comment beside or just above it in the
    model class called `name`."""
    for module in MODEL_MODULES:
        model = getattr(module, name, None)
        if model is not None and hasattr(model, "model_fields"):
            break
    else:
        return {}
    aliases = {field: info.alias or field for field, info in model.model_fields.items()}
    found: dict[str, str] = {}
    above: list[str] = []
    for line in inspect.getsource(model).splitlines()[1:]:
        comment = re.fullmatch(r" {4}# ?(.*)", line)
        field = re.fullmatch(r" {4}(\w+): [^#]*?(?:# ?(.*))?", line)
        if comment:
            above.append(comment.group(1))
        elif field and field.group(1) in aliases:
            text = " ".join([*above, field.group(2) or ""]).strip()
            if text:
                found[aliases[field.group(1)]] = text
            above = []
        else:
            above = []
    return found


def _anchor(ref: str) -> str:
    return ref.rsplit("/", 1)[-1].lower()


def _type(prop: dict[str, Any]) -> str:
    if "$ref" in prop:
        name = prop["$ref"].rsplit("/", 1)[-1]
        return f"[{name}](#{_anchor(name)})"
    if "anyOf" in prop:
        kinds = [p for p in prop["anyOf"] if p.get("type") != "null"]
        text = " or ".join(_type(p) for p in kinds)
        return text if len(kinds) == len(prop["anyOf"]) else f"{text} (optional)"
    if "enum" in prop:
        return " \\| ".join(f"`{json.dumps(v)}`" for v in prop["enum"])
    if "const" in prop:
        return f"`{json.dumps(prop['const'])}`"
    kind = prop.get("type")
    if kind == "array":
        return f"list of {_type(prop.get('items', {}))}"
    if kind == "object" and isinstance(prop.get("additionalProperties"), dict):
        return f"map of name → {_type(prop['additionalProperties'])}"
    if prop.get("format") == "duration":
        return DURATION
    if prop.get("format") == "date-time":
        return "date-time (ISO 8601, e.g. `2026-12-24T00:00:00Z`)"
    return f"{kind}" if kind else "any"


_CONSTRAINTS = {"pattern": "matches `{}`", "minimum": "≥ {}", "maximum": "≤ {}",
                "exclusiveMinimum": "> {}", "exclusiveMaximum": "< {}", "gt": "> {}",
                "minItems": "at least {} item(s)", "minProperties": "at least {} entry(ies)",
                "minLength": "at least {} character(s)"}


def _constraints(prop: dict[str, Any]) -> list[str]:
    found = [text.format(prop[key]) for key, text in _CONSTRAINTS.items() if key in prop]
    for option in prop.get("anyOf", []):
        found += _constraints(option)
    return found


def _default(prop: dict[str, Any], required: bool, defs: dict[str, Any]) -> str:
    if required:
        return "**required**"
    if "default" not in prop:
        return ""
    value = prop["default"]
    if isinstance(value, dict) and "$ref" in prop:  # say only what differs from its own defaults
        own = defs[prop["$ref"].rsplit("/", 1)[-1]].get("properties", {})
        value = {k: v for k, v in value.items() if own.get(k, {}).get("default") != v}
        if not value:
            return "each key's default"
    return f"`{json.dumps(value, ensure_ascii=False)}`"


def _refs(prop: Any) -> Iterator[str]:
    if isinstance(prop, dict):
        if "$ref" in prop:
            yield prop["$ref"].rsplit("/", 1)[-1]
        for value in prop.values():
            yield from _refs(value)
    elif isinstance(prop, list):
        for value in prop:
            yield from _refs(value)


def _where(root: dict[str, Any]) -> dict[str, str]:
    """Each definition's first place in hoist.yaml (`environments[].canary`), in reading order."""
    defs = root["$defs"]
    places: dict[str, str] = {}

    def walk(node: dict[str, Any], path: str) -> None:
        for key, prop in node.get("properties", {}).items():
            here = f"{path}.{key}" if path else key
            if prop.get("type") == "array" or any(p.get("type") == "array"
                                                   for p in prop.get("anyOf", [])):
                here += "[]"
            elif prop.get("type") == "object" and "additionalProperties" in prop:
                here += ".<name>"
            for name in _refs(prop):
                if name not in places:
                    places[name] = here
                    walk(defs[name], here)

    walk(root, "")
    return places


def _section(title: str, anchor: str, where: str, node: dict[str, Any],
             comments: dict[str, str], defs: dict[str, Any]) -> list[str]:
    lines = [f"## {title} {{#{anchor}}}", ""]
    if where:
        lines += [f"Where: `{where}`", ""]
    if node.get("description"):
        lines += [" ".join(node["description"].split()), ""]
    required = set(node.get("required", []))
    lines += ["| key | type | default | description |", "| --- | --- | --- | --- |"]
    for key, prop in node.get("properties", {}).items():
        notes = [comments.get(key, ""), *_constraints(prop)]
        text = "; ".join(n for n in notes if n).replace("|", "\\|")
        lines.append(f"| `{key}` | {_type(prop)} | {_default(prop, key in required, defs)} | {text} |")
    if node.get("additionalProperties") is False:
        lines += ["", "Other keys are refused."]
    return [*lines, ""]


def render_config() -> str:
    """The hoist.yaml reference: the top level, then each part in the order it appears."""
    root = schema()
    lines = ["Generated from `Config.model_json_schema()` (`bot/core/config.py`) when this "
             "site was built; the schema itself is [hoist.schema.json](hoist.schema.json) "
             "(for editors: `# yaml-language-server: $schema=…`).", ""]
    defs = root["$defs"]
    lines += _section("hoist.yaml", "top-level", "", root, _source_comments("Config"), defs)
    for name, where in _where(root).items():
        lines += _section(name, _anchor(name), where, defs[name], _source_comments(name), defs)
    return "\n".join(lines)


# --- the CLI -------------------------------------------------------------------------------

def _subcommands(parser: argparse.ArgumentParser, prefix: str = "hoist"
                 ) -> Iterator[tuple[str, str, argparse.ArgumentParser]]:
    """(name, help, parser) of every leaf subcommand, `db backup` for nested ones."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help or "" for a in action._choices_actions}
            for name, sub in action.choices.items():
                full = f"{prefix} {name}"
                if any(isinstance(a, argparse._SubParsersAction) for a in sub._actions):
                    yield from _subcommands(sub, full)
                else:
                    yield full.removeprefix("hoist "), helps.get(name, ""), sub


def _argument(action: argparse.Action) -> str:
    if action.option_strings:
        name = ", ".join(action.option_strings)
        if action.nargs != 0:
            name += f" {action.metavar or action.dest.upper()}"
        return f"`{name}`"
    return f"`{action.metavar or action.dest.upper()}`"


def _argument_notes(action: argparse.Action) -> str:
    notes = [action.help or ""]
    if action.choices:
        notes.append("one of " + ", ".join(f"`{c}`" for c in action.choices))
    if action.required and action.option_strings:
        notes.append("required")
    if action.nargs in ("+", "*") or isinstance(action, argparse._AppendAction):
        notes.append("repeatable" if action.option_strings else "one or more")
    if action.nargs == "?":
        notes.append("optional")
    default = action.default
    if default not in (None, False, [], argparse.SUPPRESS) and action.nargs != 0:
        notes.append(f"default `{default}`")
    return "; ".join(n for n in notes if n).replace("|", "\\|")


def render_command(name: str, help_text: str, parser: argparse.ArgumentParser) -> str:
    parser.formatter_class = lambda prog: argparse.HelpFormatter(prog, width=200)
    usage = parser.format_usage().removeprefix("usage: ").strip()
    lines = [f"### `hoist {name}` {{#{name.replace(' ', '-')}}}", "", help_text[:1].upper()
             + help_text[1:] + ".", "", "```text", usage, "```", ""]
    actions = [a for a in parser._actions if not isinstance(a, argparse._HelpAction)]
    if actions:
        lines += ["| argument | meaning |", "| --- | --- |"]
        lines += [f"| {_argument(a)} | {_argument_notes(a)} |" for a in actions]
    return "\n".join([*lines, ""])


def commands() -> dict[str, str]:
    """Subcommand (`serve`, `db backup`) → its generated reference."""
    return {name: render_command(name, text, sub)
            for name, text, sub in _subcommands(cli.build_parser())}


def place_commands(markdown: str, page: str) -> str:
    rendered = commands()
    placed = CLI_MARKER.findall(markdown)
    unknown = sorted(set(placed) - set(rendered))
    missing = sorted(set(rendered) - set(placed))
    if unknown or missing or len(placed) != len(set(placed)):
        raise PluginError(f"{page}: CLI markers out of step with bot/cli/: unknown "
                          f"{unknown}, not placed {missing}, placed twice "
                          f"{sorted({p for p in placed if placed.count(p) > 1})}")
    return CLI_MARKER.sub(lambda m: rendered[m.group(1)], markdown)


# --- MkDocs events -------------------------------------------------------------------------

def on_files(files: Files, config: MkDocsConfig) -> Files:
    files.append(File.generated(config, SCHEMA_URI, content=json.dumps(schema(), indent=2)))
    return files


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    replacers: list[tuple[bool, Callable[[str], str]]] = [
        (CONFIG_MARKER in markdown, lambda text: text.replace(CONFIG_MARKER, render_config())),
        (CLI_MARKER.search(markdown) is not None,
         lambda text: place_commands(text, page.file.src_uri)),
    ]
    for present, replace in replacers:
        if present:
            markdown = replace(markdown)
    return markdown
