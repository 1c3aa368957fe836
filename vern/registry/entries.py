"""Reading each model's ``Privacy`` declaration into the registry.

A model that holds personal data says so beside its fields, the way it gives
``Meta``; no central list has to be edited, and no app has to import this one::

    class Enquiry(models.Model):
        ...
        class Privacy:
            purpose = "enquiries"                 # a purpose id of the declaration
            retention = "enquiries"               # a retention rule id of the declaration
            identifiers = {"email": "email_index", "phone": "phone_index"}  # or several fields: ("a", "b")
            clock = "last_contact_at"             # the field that starts the retention clock
            erasure = "delete"                    # or "anonymise" with anonymise = (...), or "retain"
            export = ("name", "email", "phone", "organisation", "message", "created_at")

A model without personal data says why not::

    class Job(models.Model):
        class Privacy:
            not_personal = "Payloads hold ids only."

and a model with staff members' data, which this declaration does not cover,
says ``staff_data = "…"``. A model whose rows belong to another registered
model's row (the contact log of an enquiry) says so, and is found, exported and
erased with its parent; its foreign key must cascade::

    class ContactLog(models.Model):
        enquiry = models.ForeignKey(Enquiry, on_delete=models.CASCADE)
        class Privacy:
            part_of = "enquiry"
            export = ("kind", "happened_at", "note")

A registered model may also name the legal bases its rows may carry
(``bases = ("f", "b")``); the declaration check refuses a purpose that does not
allow them (P5). Where its rows are not simply due a period after the clock
field (a retention rule with exceptions, like an enquiry that became a
customer), or where correcting a field needs more than saving it (a blind index
or search digests follow the email or the name), its app's surface gives the
function, by model (``due`` and ``rectify`` in ``vern.registry.surface``).
Every identifier field must be the first column of an index, so that finding a
person never reads the whole table; a short-lived table may instead say why it
is searched by a scan (``unindexed = {"ip": "…"}``), where an index would cost
more than the rare search it serves. Every model of a vern app must carry one of these.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any, Literal

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.core.signals import setting_changed
from django.db import models

from vern.lib.fields import EncryptedTextField
from vern.registry import surface
from vern.registry.surface import DueQuery, Rectifier

IDENTIFIER_KINDS = ("email", "phone", "consent_id", "ip")
ENTRY_ATTRIBUTES = frozenset(
    {
        "purpose",
        "retention",
        "identifiers",
        "clock",
        "erasure",
        "anonymise",
        "retain_reason",
        "export",
        "bases",
        "unindexed",
    }
)
PART_ATTRIBUTES = frozenset({"part_of", "export"})
EXEMPTION_ATTRIBUTES = frozenset({"not_personal", "staff_data", "not_personal_fields"})
# Models of other installed apps, which cannot carry a Privacy class, and what they hold.
THIRD_PARTY: dict[str, tuple[Literal["not_personal", "staff_data"], str]] = {
    "auth.Permission": ("not_personal", "Django's permission names; vern's roles do not use them."),
    "auth.Group": ("not_personal", "Django's groups; vern's roles do not use them."),
    "contenttypes.ContentType": ("not_personal", "The names of the installed models."),
    "sessions.Session": ("staff_data", "Staff login sessions (the vern_session cookie)."),
    "otp_totp.TOTPDevice": ("staff_data", "A staff member's authenticator app: its secret, for the second factor."),
    "otp_static.StaticDevice": ("staff_data", "A staff member's set of recovery codes."),
    "otp_static.StaticToken": ("staff_data", "One unused recovery code of a staff member."),
}
ERASURE_MODES = ("delete", "anonymise", "retain")
# Settings that moved to the app's surface, with where they went.
MOVED_TO_SURFACE = {"due": "Surface.due", "rectify": "Surface.rectify"}
# Field names and types that suggest personal data, to name them when a model has no Privacy.
_SUSPICIOUS_NAMES = ("email", "phone", "name", "address", "ip", "message", "subject_key")


@dataclass(frozen=True)
class Entry:
    """A registered model that holds personal data."""

    model: type[models.Model]
    purpose: str
    retention: str
    identifiers: dict[str, tuple[str, ...]]  # kind → the indexed fields that hold it
    clock: str
    erasure: Literal["delete", "anonymise", "retain"]
    anonymise: tuple[str, ...] = ()
    retain_ground: Any = ""  # a lazy translation: the registry is read once, in no particular language
    export: tuple[str, ...] = ()
    bases: tuple[str, ...] = ()
    due: DueQuery | None = None  # from the app's surface: which rows are due under a rule with exceptions
    rectify: Rectifier | None = None  # from the app's surface: how a field is corrected
    unindexed: dict[str, str] = field(default_factory=dict)  # identifier kind → why it is found by a scan
    problems: list[str] = field(default_factory=list, compare=False)

    @property
    def label(self) -> str:
        return self.model._meta.label

    @property
    def retain_reason(self) -> str:
        """The Art. 17(3) ground for keeping rows from an erasure, in the active language."""
        return str(self.retain_ground)

    def blanks(self) -> dict[str, Any]:
        """What anonymising a row writes: None in each nullable field it clears, "" in the others."""
        return {
            name: None if getattr(self.model._meta.get_field(name), "null", False) else "" for name in self.anonymise
        }

    def due_query(self, declaration: Any, now: Any) -> models.Q | None:
        """The rows due for deletion at ``now`` by the model's own function; None if it has none."""
        return self.due(declaration, now) if self.due is not None else None


@dataclass(frozen=True)
class Part:
    """A model whose rows belong to a registered model's row: found, exported and erased with it."""

    model: type[models.Model]
    parent_field: str
    export: tuple[str, ...] = ()
    problems: list[str] = field(default_factory=list, compare=False)

    @property
    def label(self) -> str:
        return self.model._meta.label

    @property
    def parent(self) -> type[models.Model] | None:
        try:
            related = self.model._meta.get_field(self.parent_field).related_model
        except FieldDoesNotExist:  # reported in problems
            return None
        return related if isinstance(related, type) else None


@dataclass(frozen=True)
class Exemption:
    model: type[models.Model]
    kind: Literal["not_personal", "staff_data"]
    reason: str
    problems: list[str] = field(default_factory=list, compare=False)

    @property
    def label(self) -> str:
        return self.model._meta.label


def vern_models() -> list[type[models.Model]]:
    return [
        model for config in apps.get_app_configs() if config.name.startswith("vern.") for model in config.get_models()
    ]


def other_models() -> list[type[models.Model]]:
    """Models of installed apps that are not vern's (Django's sessions, permissions, …)."""
    return [
        model
        for config in apps.get_app_configs()
        if not config.name.startswith("vern.")
        for model in config.get_models()
    ]


def suspicious_fields(model: type[models.Model]) -> list[str]:
    found = []
    for model_field in model._meta.get_fields():
        if not isinstance(model_field, models.Field):
            continue
        name = model_field.name.lower()
        if isinstance(model_field, EncryptedTextField | models.EmailField | models.GenericIPAddressField) or any(
            hint in name for hint in _SUSPICIOUS_NAMES
        ):
            found.append(model_field.name)
    return found


def _read_part(model: type[models.Model], spec: Any, given: set[str]) -> Part:
    problems = [f"Privacy.{name} is not a known setting for a part" for name in sorted(given - PART_ATTRIBUTES)]
    parent_field = str(spec.part_of)
    export = tuple(getattr(spec, "export", ()) or ())
    field_names = {f.name for f in model._meta.get_fields() if isinstance(f, models.Field)}
    if parent_field not in field_names:
        problems.append(f"part_of field {parent_field!r} does not exist")
    else:
        link = model._meta.get_field(parent_field)
        if not isinstance(link, models.ForeignKey):
            problems.append(f"part_of field {parent_field!r} is not a foreign key")
        else:
            if link.remote_field.on_delete is not models.CASCADE:
                problems.append(f"part_of field {parent_field!r} must cascade, so that erasing the parent erases this")
            parent = link.related_model
            if isinstance(parent, type) and not isinstance(read(parent), Entry):
                problems.append(f"part_of points to {parent._meta.label}, which is not a registered model")
    for name in export:
        if name not in field_names:
            problems.append(f"field {name!r} named in Privacy does not exist")
    return Part(model=model, parent_field=parent_field, export=export, problems=problems)


def read(model: type[models.Model]) -> Entry | Part | Exemption | None:
    """The model's own Privacy declaration; one inherited from a parent class does not count."""
    spec: Any = model.__dict__.get("Privacy")
    if spec is None:
        return None
    given = {name for name in vars(spec) if not name.startswith("_")}
    if getattr(spec, "part_of", None):
        return _read_part(model, spec, given)
    not_personal, staff_data = getattr(spec, "not_personal", None), getattr(spec, "staff_data", None)
    if not_personal or staff_data:
        problems = [f"Privacy.{name} is not a known setting" for name in sorted(given - EXEMPTION_ATTRIBUTES)]
        acknowledged = set(getattr(spec, "not_personal_fields", ()) or ())
        unexplained = [name for name in suspicious_fields(model) if name not in acknowledged]
        if not_personal and unexplained:
            problems.append(
                f"says not_personal but has {', '.join(unexplained)}; "
                "list them in Privacy.not_personal_fields if they hold no personal data"
            )
        kind: Literal["not_personal", "staff_data"] = "not_personal" if not_personal else "staff_data"
        return Exemption(model=model, kind=kind, reason=str(not_personal or staff_data), problems=problems)
    problems = [
        f"Privacy.{name} is not a known setting"
        + (f"; give the function in the app's {MOVED_TO_SURFACE[name]}" if name in MOVED_TO_SURFACE else "")
        for name in sorted(given - ENTRY_ATTRIBUTES)
    ]
    field_names = {f.name for f in model._meta.get_fields() if isinstance(f, models.Field)}

    def need(attribute: str) -> Any:
        value = getattr(spec, attribute, None)
        if value in (None, "", (), {}):
            problems.append(f"Privacy.{attribute} is missing")
        return value

    purpose, retention = need("purpose"), need("retention")
    identifiers = {
        kind: (names,) if isinstance(names, str) else tuple(names)
        for kind, names in dict(need("identifiers") or {}).items()
    }
    clock, erasure = need("clock"), need("erasure")
    anonymise = tuple(getattr(spec, "anonymise", ()) or ())
    export = tuple(getattr(spec, "export", ()) or ())
    unindexed = {str(kind): str(why).strip() for kind, why in dict(getattr(spec, "unindexed", None) or {}).items()}
    for kind, names in identifiers.items():
        if kind not in IDENTIFIER_KINDS:
            problems.append(f"identifier kind {kind!r} is not one of {', '.join(IDENTIFIER_KINDS)}")
        for name in names:
            if name not in field_names:
                problems.append(f"identifier field {name!r} does not exist")
            elif not indexed(model, name) and kind not in unindexed:
                problems.append(f"identifier field {name!r} has no index, so finding a person would scan the table")
    for scanned, why in unindexed.items():
        if scanned not in identifiers:
            problems.append(f"Privacy.unindexed names {scanned!r}, which is not one of its identifiers")
        elif len(why) < 20:
            problems.append(f"Privacy.unindexed must say why {scanned!r} is found by a scan of the table")
    if clock and clock not in field_names:
        problems.append(f"clock field {clock!r} does not exist")
    elif clock and getattr(model._meta.get_field(clock), "null", False):
        problems.append(f"clock field {clock!r} may be empty, and a row without a start would never expire")
    if erasure and erasure not in ERASURE_MODES:
        problems.append(f"erasure {erasure!r} is not one of {', '.join(ERASURE_MODES)}")
    if erasure == "anonymise" and not anonymise:
        problems.append("erasure 'anonymise' needs Privacy.anonymise, the fields to clear")
    retain_reason = getattr(spec, "retain_reason", "") or ""
    if erasure == "retain" and not retain_reason:
        problems.append("erasure 'retain' needs Privacy.retain_reason, the Art. 17(3) ground")
    for name in (*anonymise, *export):
        if name not in field_names:
            problems.append(f"field {name!r} named in Privacy does not exist")
    for name in anonymise:
        cleared = model._meta.get_field(name) if name in field_names else None
        if isinstance(cleared, EncryptedTextField) and not cleared.null:
            problems.append(
                f"field {name!r} is encrypted and anonymised, so it must allow NULL: "
                "a cleared row is then told from one that still holds data without decrypting it"
            )
    bases = tuple(getattr(spec, "bases", ()) or ())
    for basis in bases:
        if basis not in ("a", "b", "c", "d", "e", "f"):
            problems.append(f"basis {basis!r} is not one of Art. 6(1) a-f")
    return Entry(
        model=model,
        purpose=str(purpose or ""),
        retention=str(retention or ""),
        identifiers=identifiers,
        clock=str(clock or ""),
        erasure=erasure if erasure in ERASURE_MODES else "delete",
        anonymise=anonymise,
        retain_ground=retain_reason,
        export=export,
        bases=bases,
        due=surface.due_of(model),
        rectify=surface.rectifier_of(model),
        unindexed=unindexed,
        problems=problems,
    )


def indexed(model: type[models.Model], name: str) -> bool:
    """Whether ``name`` leads an index of ``model``, so that a lookup or an ordered walk by it is cheap."""
    model_field = model._meta.get_field(name)
    if any(getattr(model_field, flag, False) for flag in ("db_index", "unique", "primary_key")):
        return True
    # A partial index (with a condition) does not serve a plain lookup by this field.
    return any(index.fields and index.fields[0] == name and index.condition is None for index in model._meta.indexes)


@dataclass(frozen=True)
class Registry:
    """Every vern model's declaration, read once per process."""

    entries: tuple[Entry, ...]
    parts: tuple[Part, ...]
    exemptions: tuple[Exemption, ...]


@functools.cache
def registry() -> Registry:
    read_all = [read(model) for model in vern_models()]
    return Registry(
        entries=tuple(sorted((item for item in read_all if isinstance(item, Entry)), key=lambda item: item.label)),
        parts=tuple(sorted((item for item in read_all if isinstance(item, Part)), key=lambda item: item.label)),
        exemptions=tuple(
            sorted((item for item in read_all if isinstance(item, Exemption)), key=lambda item: item.label)
        ),
    )


def forget() -> None:
    """Read every model's declaration and every app's surface afresh (INSTALLED_APPS changed)."""
    registry.cache_clear()
    surface.forget()


def _installed_apps_changed(*, setting: str, **kwargs: Any) -> None:
    if setting == "INSTALLED_APPS":
        forget()


setting_changed.connect(_installed_apps_changed, dispatch_uid="vern.registry.entries")


def entries() -> list[Entry]:
    """Every registered model holding personal data, in a stable order."""
    return list(registry().entries)


def entry_of(model: type[models.Model]) -> Entry | None:
    return next((entry for entry in registry().entries if entry.model is model), None)


def parts() -> list[Part]:
    return list(registry().parts)


def parts_of(entry: Entry) -> list[Part]:
    """The models whose rows belong to ``entry``'s rows."""
    return [part for part in registry().parts if part.parent is entry.model]


def exemptions() -> list[Exemption]:
    return list(registry().exemptions)
