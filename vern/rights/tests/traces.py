"""Looking for a person's email and phone everywhere the database keeps text (P23).

Two searches: every model of every installed app through the ORM, which decrypts
encrypted fields, looking at every text, char and JSON field of every row; and
every table the database has, raw, so that a table no model describes (the cache)
is searched too. Tests call ``traces`` and expect an empty list.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from django.apps import apps
from django.db import connection, models

from vern.lib.normalise import normalise_email, normalise_phone


def spellings(*, email: str = "", phone: str = "") -> list[str]:
    """What to look for: the normalised email; the phone in E.164, as typed, and as its bare digits."""
    found: list[str] = []
    if email:
        found.append(normalise_email(email))
    if phone:
        e164 = normalise_phone(phone)
        national = e164.removeprefix("+47")
        found += [e164, phone.strip(), national, " ".join((national[:3], national[3:5], national[5:]))]
    return sorted({value.lower() for value in found if value})


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bytes | memoryview):
        return bytes(value).decode("latin-1")
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def _in_models(needles: list[str]) -> list[str]:
    hits = []
    for model in apps.get_models():
        fields = [
            field
            for field in model._meta.concrete_fields
            if isinstance(field, models.CharField | models.TextField | models.JSONField)
        ]
        if not fields:
            continue
        names = [field.attname for field in fields]
        for pk, *values in model._base_manager.order_by().values_list("pk", *names).iterator():
            for name, value in zip(names, values, strict=True):
                text = _text(value).lower()
                hits += [f"{model._meta.label}.{name} #{pk}: {needle}" for needle in needles if needle in text]
    return hits


def _in_tables(needles: list[str]) -> list[str]:
    hits = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608 (a table name)
            for row in cursor.fetchall():
                text = " ".join(_text(value) for value in row).lower()
                hits += [f"table {table}: {needle}" for needle in needles if needle in text]
    return hits


def traces(needles: Iterable[str]) -> list[str]:
    """Where any of ``needles`` (lower case) is found, as ``model.field #pk`` or ``table name``."""
    wanted = [needle.lower() for needle in needles if needle]
    return _in_models(wanted) + _in_tables(wanted)
