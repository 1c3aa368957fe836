"""The one routine that removes a registered model's rows: a retention sweep and an erasure request alike.

What removing a row means is the model's to say (its ``Privacy.erasure``):

- ``anonymise``: the fields named in ``Privacy.anonymise`` are cleared (None where the
  field may be empty, "" elsewhere), the row stays for its counts and dates, and the
  rows of its parts go, since they belong to the person;
- anything else: the row is deleted, and its parts with it, by cascade.

A ``retain`` model keeps its rows from an erasure request (the caller leaves it out),
but its rows are deleted like any other once the retention rule's period has passed.

Nothing is decrypted to be removed: only keys are read. An encrypted field cannot be
compared with a value, so a field that anonymising clears must be able to hold NULL
when it is encrypted (the registry's check says so); ``pending`` then tells a cleared
row from one that still holds data with an ``IS NULL`` test, and a sweep never takes
the same anonymised row twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet

from vern.lib.fields import EncryptedTextField
from vern.registry import surface
from vern.registry.entries import Entry, Part, parts_of


@dataclass(frozen=True)
class Removed:
    """Rows removed per model label: deleted (parts included) and anonymised."""

    deleted: dict[str, int] = field(default_factory=dict)
    anonymised: dict[str, int] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.deleted or self.anonymised)

    def counts(self) -> dict[str, int]:
        """Every model's rows removed, either way."""
        merged = dict(self.deleted)
        for label, n in self.anonymised.items():
            merged[label] = merged.get(label, 0) + n
        return merged


def part_rows(part: Part, parents: QuerySet[Any]) -> QuerySet[Any]:
    """The rows of ``part`` that belong to the rows of ``parents``."""
    return part.model._default_manager.filter(**{f"{part.parent_field}__in": parents.order_by().values("pk")})


def pending(entry: Entry) -> Q:
    """Of ``entry``'s rows, those that removing would still change: every row, unless the model
    anonymises, and then the rows where a field to clear still holds something."""
    if entry.erasure != "anonymise":
        return Q()
    condition = Q(pk__in=[])
    for name in entry.anonymise:
        model_field = entry.model._meta.get_field(name)
        if getattr(model_field, "null", False):
            condition |= Q(**{f"{name}__isnull": False})
        elif not isinstance(model_field, EncryptedTextField):  # refused by the registry's check
            condition |= ~Q(**{name: ""})
    return condition


def remove_rows(entry: Entry, records: QuerySet[Any]) -> Removed:
    """Delete or anonymise ``records`` of ``entry`` as the model declares, in the caller's transaction."""
    records = records.order_by()
    surface.removing(entry.model, records)  # what must go outside the database too, recorded first
    if entry.erasure == "anonymise":
        deleted: dict[str, int] = {}
        for part in parts_of(entry):
            _, per_model = part_rows(part, records).only("pk").delete()
            deleted.update({label: n for label, n in per_model.items() if n})
        changed = records.filter(pending(entry)).update(**entry.blanks())
        return Removed(deleted=deleted, anonymised={entry.label: changed} if changed else {})
    _, per_model = records.only("pk").delete()  # with its parts, by cascade
    return Removed(deleted={label: n for label, n in per_model.items() if n})
