"""Read a declaration from YAML, with every error naming its path and line.

``purposes[2].legal_bases[0] (line 41): 'consent' is not one of a, b, c, d, e, f``

The YAML is composed into nodes first (they carry line numbers), checked for
duplicate keys (PyYAML would silently keep the last one), then validated by the
pydantic schema; each validation error's location is walked back through the
nodes to the line it came from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from django.utils.translation import gettext_noop
from pydantic import ValidationError

from vern.declaration.schema import Declaration
from vern.lib.wording import Wording


class DeclarationLoader(yaml.SafeLoader):
    """YAML without YAML 1.1's surprises: ``NO`` (Norway) and ``yes`` stay text, and dates
    stay text for the schema to parse, so a bad date is an error with its path and line."""


DeclarationLoader.yaml_implicit_resolvers = {
    first: [
        (tag, regexp)
        for tag, regexp in resolvers
        if tag != "tag:yaml.org,2002:timestamp" and not (tag == "tag:yaml.org,2002:bool" and regexp.match("yes"))
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
# Booleans are only true and false (and their capitalised forms).
DeclarationLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


@dataclass(frozen=True)
class Problem:
    path: str
    line: int | None
    message: str  # in English, as the command line prints it
    # The message's English template and what fills it in, when it can be read in another language.
    template: str = ""
    params: tuple[tuple[str, str], ...] = ()
    translated: tuple[str, ...] = ()  # the params that are English texts themselves (``Wording.translated``)

    @classmethod
    def worded(cls, path: str, line: int | None, wording: Wording) -> Problem:
        return cls(path, line, str(wording), wording.template, wording.params, wording.translated)

    def localised(self) -> str:
        """The message in the active language (the staff member's), where it has a translation."""
        if not self.template:
            return self.message
        return Wording(self.template, self.params, self.translated).localised()

    def __str__(self) -> str:
        where = self.path or "declaration"
        if self.line:
            where += f" (line {self.line})"
        return f"{where}: {self.message}"


class DeclarationInvalid(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


def format_path(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def _child(node: yaml.Node | None, part: int | str) -> tuple[yaml.Node | None, yaml.Node | None]:
    """(value node, key node) of ``part`` under ``node``."""
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value == part:
                return value, key
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
        return node.value[part], None
    return None, None


def line_of(root: yaml.Node | None, loc: tuple[int | str, ...]) -> int | None:
    """The line of the deepest node that ``loc`` reaches (1-based)."""
    node, best = root, root
    for part in loc:
        value, key = _child(node, part)
        if value is None:
            if key is not None:
                best = key
            break
        best, node = value, value
    return best.start_mark.line + 1 if best is not None else None


def _shape_problems(node: yaml.Node, path: tuple[int | str, ...] = ()) -> list[Problem]:
    """Keys that are not text, and keys given twice (PyYAML would silently keep the last)."""
    problems: list[Problem] = []
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            if not isinstance(key, yaml.ScalarNode) or key.tag != "tag:yaml.org,2002:str":
                shown = key.value if isinstance(key, yaml.ScalarNode) else "a list or mapping"
                problems.append(Problem(format_path(path), key.start_mark.line + 1, f"the key {shown!r} must be text"))
                continue
            name = key.value
            if name in seen:
                problems.append(Problem(format_path((*path, name)), key.start_mark.line + 1, "appears twice"))
            seen.add(name)
            problems += _shape_problems(value, (*path, name))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            problems += _shape_problems(item, (*path, index))
    return problems


def _message(error: Any) -> tuple[str, str, tuple[tuple[str, str], ...]]:
    """Pydantic's error as (the English message, its template, what fills it in)."""
    kind = error["type"]
    given = error.get("input")
    templates: dict[str, tuple[str, dict[str, str]]] = {
        "missing": (gettext_noop("is required"), {}),
        "extra_forbidden": (gettext_noop("is not a known key"), {}),
        "string_pattern_mismatch": (gettext_noop("%(given)s does not have the expected form"), {"given": repr(given)}),
        "string_too_short": (gettext_noop("string should have at least 1 character"), {}),
        "date_from_datetime_parsing": (gettext_noop("input should be a valid date"), {}),
        "date_parsing": (gettext_noop("input should be a valid date"), {}),
    }
    if kind == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        options = expected.replace("'", "").replace(" or ", ", ")
        templates[kind] = (
            gettext_noop("%(given)s is not one of %(options)s"),
            {"given": repr(given), "options": options},
        )
    if kind in templates and not (kind == "string_too_short" and error.get("ctx", {}).get("min_length") != 1):
        template, params = templates[kind]
        return (template % params if params else template), template, tuple(params.items())
    if kind == "value_error":
        return str(error.get("ctx", {}).get("error", error["msg"])), "", ()
    return f"{error['msg'][0].lower()}{error['msg'][1:]}", "", ()


def _yaml_problem(exc: yaml.YAMLError) -> Problem:
    mark = getattr(exc, "problem_mark", None)
    line = mark.line + 1 if mark is not None else None
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return Problem("", line, f"not valid YAML: {problem}")


@dataclass(frozen=True)
class Loaded:
    declaration: Declaration
    source: str
    root: yaml.Node

    def line(self, loc: tuple[int | str, ...]) -> int | None:
        return line_of(self.root, loc)


def parse(source: str) -> Loaded:
    """Parse and validate declaration text; raises ``DeclarationInvalid`` with every problem found."""
    try:
        root = yaml.compose(source, Loader=DeclarationLoader)
    except yaml.YAMLError as exc:
        raise DeclarationInvalid([_yaml_problem(exc)]) from None
    if root is None:
        raise DeclarationInvalid([Problem("", None, "the file is empty")])
    shape = _shape_problems(root)
    if shape:
        raise DeclarationInvalid(shape)
    try:
        data = DeclarationLoader(source).get_single_data()
    except yaml.YAMLError as exc:  # e.g. a !!python/… or !!binary tag
        raise DeclarationInvalid([_yaml_problem(exc)]) from None
    if not isinstance(data, dict):
        raise DeclarationInvalid([Problem("", 1, "a declaration is a mapping of sections")])
    try:
        declaration = Declaration.model_validate(data)
    except ValidationError as exc:
        problems = [
            Problem(format_path(tuple(error["loc"])), line_of(root, tuple(error["loc"])), *_message(error))
            for error in exc.errors()
        ]
        raise DeclarationInvalid(problems) from None
    return Loaded(declaration=declaration, source=source, root=root)


def load(path: Path) -> Loaded:
    try:
        source = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DeclarationInvalid([Problem("", None, f"cannot read {path}: {exc.strerror}")]) from None
    except UnicodeDecodeError:
        raise DeclarationInvalid([Problem("", None, f"{path} is not UTF-8 text")]) from None
    return parse(source)
