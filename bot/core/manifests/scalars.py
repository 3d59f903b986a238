"""How the readers of a manifest type a plain scalar: the one place that decides whether a
value Hoist writes must be quoted, and whether Helm's `--set` would read it as a string.

A manifest is read by several YAML implementations, and each resolves an unquoted scalar
by its own rules. A written value stays plain only when every one of them reads it back as
the same string; otherwise it is quoted (a quoted scalar is a string to all of them).

`RULES` is the table, one row per (reader, kind), each with its source:

- YAML 1.1 — the type repository, yaml.org/type/{bool,null,int,float,timestamp,merge,value}.html
  (PyYAML's `resolver.py`, which libyaml-based tools and Kubernetes' Python client use,
  implements it but leaves out the bools y/Y/n/N; they are in). The spec's float regex
  `[0-9.]*` also admits `1.2.3`; no implementation reads that as a float, so neither do we.
- YAML 1.2 core schema — YAML 1.2.2 §10.3.2 "Tag Resolution"; and as ruamel.yaml (the
  Python YAML 1.2 reader, Hoist's own config loader) implements it, which also allows `_`
  between digits and a timestamp type.
- go-yaml v2 and v3 (`resolve.go`; v2 through sigs.k8s.io/yaml is what kubectl, kustomize,
  Helm and Argo CD read values with, v3 through kyaml in kustomize): a fixed map of
  spellings, then for text starting with a digit or sign, with every `_` removed first: a
  `YYYY-` date, Go's `strconv.ParseInt(s, 0, 64)` (so `0x1F`, `0o17`, `0b1`, `017`, `1_000`),
  a YAML-style float (so `1e3`, `706798e8`, `08`), `0b`/`0o` prefixes; text starting with `.`
  goes to `strconv.ParseFloat`. Integers too big for 64 bits still become floats.

`helm_set_reads_as_string` is Helm's `--set` typing (`helm/pkg/strvals/parser.go`,
`typedVal`), which Argo CD applies to `helm.parameters` entries without `forceString`.
"""

from __future__ import annotations

import re
from typing import NamedTuple


class Rule(NamedTuple):
    reader: str
    kind: str
    pattern: re.Pattern[str]  # full match on the scalar's text
    source: str


def _rule(reader: str, kind: str, pattern: str, source: str) -> Rule:
    return Rule(reader, kind, re.compile(pattern), source)


_Y11 = "yaml.org/type/"
_Y12 = "YAML 1.2.2 §10.3.2"
_GO = "go-yaml v2/v3 resolve.go"
_RUAMEL = "ruamel.yaml resolver.py, YAML 1.2 rows"

RULES: tuple[Rule, ...] = (
    _rule("YAML 1.1", "bool", r"y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE"
          r"|on|On|ON|off|Off|OFF", _Y11 + "bool.html"),
    _rule("YAML 1.1", "null", r"~|null|Null|NULL|", _Y11 + "null.html"),
    _rule("YAML 1.1", "int", r"[-+]?0b[01_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)"
          r"|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+", _Y11 + "int.html"),
    _rule("YAML 1.1", "float", r"[-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+][0-9]+)?"
          r"|[-+]?\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*"
          r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)", _Y11 + "float.html"),
    _rule("YAML 1.1", "timestamp", r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:(?:[Tt]|[ \t]+)"
          r"[0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?)?",
          _Y11 + "timestamp.html"),
    _rule("YAML 1.1", "merge", r"<<", _Y11 + "merge.html"),
    _rule("YAML 1.1", "value", r"=", _Y11 + "value.html"),
    _rule("YAML 1.2 core", "null", r"null|Null|NULL|~|", _Y12),
    _rule("YAML 1.2 core", "bool", r"true|True|TRUE|false|False|FALSE", _Y12),
    _rule("YAML 1.2 core", "int", r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+", _Y12),
    _rule("YAML 1.2 core", "float", r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
          r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)", _Y12),
    _rule("YAML 1.2 (ruamel.yaml)", "int", r"(?=[-+0-9])(?:[-+]?0b[01_]+|[-+]?0o?[0-7_]+"
          r"|[-+]?[0-9_]+|[-+]?0x[0-9a-fA-F_]+)", _RUAMEL),
    _rule("YAML 1.2 (ruamel.yaml)", "float", r"[-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+]?[0-9]+)?"
          r"|[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+|[-+]?\.[0-9_]+(?:[eE][-+][0-9]+)?", _RUAMEL),
    _rule("go-yaml", "map", r"y|Y|yes|Yes|YES|on|On|ON|true|True|TRUE|n|N|no|No|NO|off|Off|OFF"
          r"|false|False|FALSE|~|null|Null|NULL|\.nan|\.NaN|\.NAN|[-+]?\.(?:inf|Inf|INF)|<<",
          _GO + " resolveMap"),
)

# go-yaml's rules for text that starts with a digit or a sign, applied after removing `_`.
_GO_NUMERIC: tuple[Rule, ...] = (
    _rule("go-yaml", "timestamp", r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt ][0-9]{1,2}:.*)?",
          _GO + " parseTimestamp (Go layouts 2006-1-2, 2006-1-2T15:4:5...)"),
    _rule("go-yaml", "int", r"[-+]?(?:0[bB][01]+|0[oO][0-7]+|0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)",
          _GO + " strconv.ParseInt(s, 0, 64)"),
    _rule("go-yaml", "float", r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?",
          _GO + " yamlStyleFloat"),
    _rule("go-yaml", "int", r"-?0[bo][-+]?[0-9]+", _GO + " 0b / 0o prefixes"),
)
_GO_DOT = _rule("go-yaml", "float", r"\.[0-9_]+(?:[eE][-+]?[0-9_]+)?",
                _GO + " strconv.ParseFloat for a leading '.'")


def misread_by(value: str) -> Rule | None:
    """The first rule under which some reader takes plain `value` for something other
    than the string `value`, or None when every reader reads it back as that string."""
    for rule in RULES:
        if rule.pattern.fullmatch(value):
            return rule
    first = value[:1]
    if first.isdigit() or first in "+-":
        plain = value.replace("_", "")
        for rule in _GO_NUMERIC:
            if rule.pattern.fullmatch(plain):
                return rule
    elif first == "." and _GO_DOT.pattern.fullmatch(value):
        return _GO_DOT
    return None


def reads_back_as_string(value: str) -> bool:
    """True when `value` written plain is the string `value` to YAML 1.1, YAML 1.2 core and
    go-yaml alike; `1.10`, `706798e8`, `0o17`, `y` or `2024-01-02` are not."""
    return misread_by(value) is None


def render_scalar(old_style: str, value: str) -> str:
    """`value` spelled in the style of the scalar it replaces: quoted values keep their
    quotes; a plain value that some reader would not read back as the same string is
    double-quoted. Values are OCI names, tags and digests, which need no escaping.
    Raises ValueError for a block scalar, which Hoist does not rewrite."""
    if old_style in ('"', "'"):
        return f"{old_style}{value}{old_style}"
    if old_style == "":
        return value if reads_back_as_string(value) else f'"{value}"'
    raise ValueError(f"will not rewrite a {old_style!r} block scalar")


_INT64 = 1 << 63


def helm_set_reads_as_string(value: str) -> bool:
    """True when Helm's `--set name=value` passes `value` on as a string: not true/false/null
    in any case, not `0`, and not a decimal int64 without a leading zero (`12345678`, `-5`);
    floats such as `1.10` or `1e3` stay strings. Source: helm/pkg/strvals/parser.go typedVal."""
    if value.lower() in ("true", "false", "null") or value == "0":
        return False
    if value[:1] != "0" and re.fullmatch(r"[-+]?[0-9]+", value):
        return not -_INT64 <= int(value) < _INT64
    return True
