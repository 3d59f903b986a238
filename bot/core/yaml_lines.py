"""YAML files validated by a pydantic model, with errors that name file, line and field:
`hoist.yaml` (core/config.py) and the projects file (core/projects.py) report alike."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError

M = TypeVar("M", bound=BaseModel)


class FieldProblem(ValueError):
    """A cross-field problem that knows which field it belongs to (raised in a model
    validator, reported at that field's line)."""

    def __init__(self, loc: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.loc = loc
        self.message = message


def _line_of(tree: Any, loc: tuple[str | int, ...]) -> int:
    """1-based line of the deepest node of loc that exists in the parsed tree."""
    line, node = 1, tree
    for part in loc:
        if isinstance(node, CommentedMap) and part in node:
            line = node.lc.key(part)[0] + 1
            node = node[part]
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and part < len(node):
            line = node.lc.item(part)[0] + 1
            node = node[part]
        else:
            break
    return line


def dotted(loc: tuple[str | int, ...]) -> str:
    """`images.web.tags`, `environments[1].name`: a field's name as errors print it."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def line_of(text: str, loc: tuple[str | int, ...]) -> int:
    """1-based line of the field at `loc` (as in error lines) in valid YAML text."""
    return _line_of(YAML(typ="rt").load(text), loc)


def load_model(model: type[M], text: str, filename: str,
               error: type[Exception]) -> M:
    """Parse YAML text and validate it as `model`; raise `error(problems)` where each
    problem is one 'file:line: field: message' line (YAML syntax errors as `(yaml)`, a
    document that is not a mapping as `(top level)`)."""
    try:
        tree = YAML(typ="rt").load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise error([f"{filename}:{line}: (yaml): {exc.problem or exc}"]) from None
    if not isinstance(tree, CommentedMap):
        raise error([f"{filename}:1: (top level): must be a mapping"])
    try:
        return model.model_validate(tree)
    except ValidationError as exc:
        problems = []
        for item in exc.errors():
            cause = item.get("ctx", {}).get("error")
            loc = tuple(p for p in item["loc"] if not str(p).startswith("function-"))
            if isinstance(cause, FieldProblem):  # the model's own place, then the field's
                loc, message = loc + cause.loc, cause.message
            else:
                message = item["msg"].removeprefix("Value error, ")
            problems.append(f"{filename}:{_line_of(tree, loc)}: {dotted(loc)}: {message}")
        raise error(problems) from None
