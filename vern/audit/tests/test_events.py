"""Audit event types are one vocabulary: every action vern writes is a member, with its label."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.utils import translation

import vern
from vern.audit.chain import PRUNED_ACTION
from vern.audit.events import AuditEvent, event_label
from vern.audit.models import Entry
from vern.audit.services import Actor, audit_record

VERN = Path(vern.__file__).resolve().parent
AREA_VERB = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")


def test_every_event_is_area_dot_verb_with_a_value_of_its_own():
    assert [event.value for event in AuditEvent if not AREA_VERB.match(event.value)] == []
    assert len(AuditEvent.__members__) == len(list(AuditEvent)), "two names share a value: one is an alias"
    assert len({str(event.label) for event in AuditEvent}) == len(AuditEvent), "two events read the same"
    assert PRUNED_ACTION == AuditEvent.CHAIN_PRUNED  # what verify looks for is what pruning writes


def test_staff_read_each_event_in_their_own_language():
    with translation.override("en"):
        assert event_label("rights.received") == "Request received"
        english = {event: str(event.label) for event in AuditEvent}
    with translation.override("nb"):
        assert event_label("rights.received") == "Forespørsel mottatt"
        assert event_label(AuditEvent.ENQUIRY_DELETED) == "Henvendelse slettet"
        same = [event.value for event in AuditEvent if str(event.label) == english[event]]
    assert same == []
    assert event_label("area.renamed_since") == "area.renamed_since"  # an old row keeps its own words


@pytest.mark.django_db
def test_an_action_that_is_not_an_event_is_refused_and_nothing_is_written():
    with pytest.raises(ValueError, match=r"'enquiry\.looked_at' is not an AuditEvent: add it to vern/audit/events\.py"):
        audit_record(action="enquiry.looked_at", actor=Actor.system())  # type: ignore[arg-type]
    assert not Entry.objects.exists()
    entry = audit_record(action="enquiry.viewed", actor=Actor.system())  # type: ignore[arg-type] # a value, untyped
    assert entry.action == "enquiry.viewed" and type(entry.action) is str
    entry = audit_record(action=AuditEvent.ENQUIRY_VIEWED, actor=Actor.system())
    assert entry.action == "enquiry.viewed" and type(entry.action) is str
    with translation.override("en"):
        assert entry.action_label == "Enquiry opened"


# ------------------------------------------------------------------ no action outside the vocabulary


@dataclass(frozen=True)
class Recorder:
    """A function that hands one of its parameters to ``audit_record`` as the action, perhaps
    inside an f-string (``f"rights.{action}"``)."""

    param: str
    index: int | None  # its position, when it may be given positionally
    prefix: str = ""
    suffix: str = ""


def _module(path: Path) -> str:
    parts = path.relative_to(VERN.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _sources() -> dict[str, ast.Module]:
    modules = {}
    for path in sorted(VERN.rglob("*.py")):
        if {"tests", "migrations"} & set(path.relative_to(VERN).parts):
            continue
        modules[_module(path)] = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return modules


def _imports(tree: ast.Module) -> dict[str, tuple[str, str | None]]:
    """Local name -> (module, name in it), or (module, None) for an imported module."""
    names: dict[str, tuple[str, str | None]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                names[alias.asname or alias.name] = (node.module, alias.name)
                names.setdefault(alias.asname or alias.name, (f"{node.module}.{alias.name}", None))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                names[alias.asname or alias.name] = (alias.name, None)
    return names


class Scan:
    def __init__(self) -> None:
        self.modules = _sources()
        self.imports = {name: _imports(tree) for name, tree in self.modules.items()}
        self.recorders: dict[tuple[str, str], Recorder] = {
            ("vern.audit.services", "audit_record"): Recorder("action", None)
        }
        self.found: dict[str, list[str]] = {}
        self.unchecked: list[str] = []

    def recorder(self, module: str, call: ast.Call) -> Recorder | None:
        func = call.func
        if isinstance(func, ast.Name):
            if (module, func.id) in self.recorders:
                return self.recorders[module, func.id]
            source, name = self.imports[module].get(func.id, ("", None))
            return self.recorders.get((source, name)) if name else None
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            source, name = self.imports[module].get(func.value.id, ("", None))
            candidates = [f"{source}.{name}" if name else source, source]
            return next((self.recorders[c, func.attr] for c in candidates if (c, func.attr) in self.recorders), None)
        return None

    @staticmethod
    def argument(call: ast.Call, recorder: Recorder) -> ast.expr | None:
        for keyword in call.keywords:
            if keyword.arg == recorder.param:
                return keyword.value
        if recorder.index is not None and recorder.index < len(call.args):
            return call.args[recorder.index]
        return None

    def find_recorders(self) -> None:
        """Functions that pass a parameter of theirs on as the action, to a fixed point."""
        changed = True
        while changed:
            changed = False
            for module, tree in self.modules.items():
                for function in ast.walk(tree):
                    if not isinstance(function, ast.FunctionDef) or (module, function.name) in self.recorders:
                        continue
                    positional = [a.arg for a in (*function.args.posonlyargs, *function.args.args)]
                    params = {*positional, *(a.arg for a in function.args.kwonlyargs)}
                    for call in (node for node in ast.walk(function) if isinstance(node, ast.Call)):
                        inner = self.recorder(module, call)
                        value = self.argument(call, inner) if inner else None
                        if inner is None or value is None:
                            continue
                        prefix = suffix = ""
                        if isinstance(value, ast.JoinedStr):
                            parts = value.values
                            holes = [p for p in parts if isinstance(p, ast.FormattedValue)]
                            if len(holes) != 1 or not all(isinstance(p, ast.Constant) for p in parts if p not in holes):
                                continue
                            at = parts.index(holes[0])
                            prefix = "".join(str(p.value) for p in parts[:at] if isinstance(p, ast.Constant))
                            suffix = "".join(str(p.value) for p in parts[at + 1 :] if isinstance(p, ast.Constant))
                            value = holes[0].value
                        if isinstance(value, ast.Name) and value.id in params:
                            index = positional.index(value.id) if value.id in positional else None
                            self.recorders[module, function.name] = Recorder(
                                value.id, index, inner.prefix + prefix, suffix + inner.suffix
                            )
                            changed = True
                            break

    def check(self, module: str, node: ast.expr, recorder: Recorder, params: set[str], where: str) -> None:
        if isinstance(node, ast.IfExp):
            self.check(module, node.body, recorder, params, where)
            self.check(module, node.orelse, recorder, params, where)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            self.found.setdefault(recorder.prefix + node.value + recorder.suffix, []).append(where)
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "AuditEvent":
            value = AuditEvent[node.attr].value if node.attr in AuditEvent.__members__ else f"AuditEvent.{node.attr}"
            self.found.setdefault(value, []).append(where)
        elif isinstance(node, ast.JoinedStr):  # f"rights.{action}" inside a helper: its callers are checked
            holes = [part.value for part in node.values if isinstance(part, ast.FormattedValue)]
            if not (len(holes) == 1 and isinstance(holes[0], ast.Name) and holes[0].id in params):
                self.unchecked.append(f"{where}: {ast.unparse(node)}")
        elif not (isinstance(node, ast.Name) and node.id in params):
            self.unchecked.append(f"{where}: {ast.unparse(node)}")

    def run(self) -> Scan:
        self.find_recorders()
        for module, tree in self.modules.items():
            functions = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
            owner = {id(call): f for f in functions for call in ast.walk(f) if isinstance(call, ast.Call)}
            for call in (node for node in ast.walk(tree) if isinstance(node, ast.Call)):
                where = f"{module}:{call.lineno}"
                function = owner.get(id(call))
                params = {a.arg for a in ast.walk(function.args) if isinstance(a, ast.arg)} if function else set()
                recorder = self.recorder(module, call)
                if recorder is not None:
                    value = self.argument(call, recorder)
                    if value is None:
                        self.unchecked.append(f"{where}: no action given that can be read")
                    else:
                        self.check(module, value, recorder, params, where)
                # A filter on the log names an event too: Entry.objects.filter(action="rights.viewed").
                for keyword in call.keywords:
                    constant = keyword.value
                    if (
                        recorder is None
                        and keyword.arg in ("action", "action__in")
                        and isinstance(constant, ast.Constant)
                        and isinstance(constant.value, str)
                        and "." in constant.value
                    ):
                        self.found.setdefault(constant.value, []).append(where)
        return self


def test_every_action_vern_writes_or_looks_for_is_an_event():
    scan = Scan().run()
    unknown = {action: places for action, places in scan.found.items() if action not in AuditEvent.values}
    assert unknown == {}, "add these to vern/audit/events.py, or correct them"
    assert scan.unchecked == [], "write the action as an AuditEvent member, or a literal this test can read"
    # The scan reaches every way an action is given: direct, through a helper, and as an f-string.
    assert {
        "staff.login",  # audit_record(action=AuditEvent.STAFF_LOGGED_IN)
        "enquiry.viewed",  # _audit(AuditEvent.ENQUIRY_VIEWED, enquiry, ...)
        "rights.viewed",  # audit_record(action=AuditEvent.RIGHTS_VIEWED)
        "rights.received",  # record_audit(request, AuditEvent.RIGHTS_RECEIVED, ...)
        "rights.erasure_replayed",  # erase_model(..., action=AuditEvent.RIGHTS_ERASURE_REPLAYED)
        "retention.chain_pruned",
    } <= set(scan.found)
    assert len(scan.found) >= 45
