"""Data written under the keys of the test settings, and the settings of a rotation away from them."""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

from django.db import connection
from django.utils import timezone

from vern.enquiries.models import Enquiry
from vern.enquiries.services import Intake, enquiry_register
from vern.keys.columns import encrypted_tables, index_columns
from vern.lib.crypto import generate_key
from vern.rights.models import Request
from vern.rights.services.intake import request_register

NEW_ENCRYPTION = f"k2:{generate_key()}"
NEW_INDEX = f"i2:{generate_key()}"


def old_encryption() -> str:
    return os.environ["VERN_ENCRYPTION_KEYS"]  # "test:…", as settings_test sets it


def old_index() -> str:
    return os.environ["VERN_INDEX_KEY"]  # a single key: its id is "index"


def rotate_settings(settings: Any) -> None:
    """A new key in front of each list; the old ones stay to read and look up."""
    settings.VERN_ENCRYPTION_KEYS = f"{NEW_ENCRYPTION},{old_encryption()}"
    settings.VERN_INDEX_KEYS = f"{NEW_INDEX},index:{old_index()}"


def retire_settings(settings: Any) -> None:
    """Only the new keys."""
    settings.VERN_ENCRYPTION_KEYS = NEW_ENCRYPTION
    settings.VERN_INDEX_KEYS = NEW_INDEX


def person(staff: Any, number: int) -> tuple[Enquiry, Request]:
    email = f"person{number}@example.no"
    enquiry = enquiry_register(
        staff=staff,
        kind="contact",
        channel="email",
        received_at=timezone.now(),
        intake=Intake(
            name=f"Kari Nordmann{number}", email=email, phone=f"+47 9{number:07d}", organisation="Bergen kommune"
        ),
        language="nb",
        acknowledge=False,
    )
    request = request_register(
        staff=staff,
        rights=["access"],
        channel="email",
        received_at=timezone.now() - dt.timedelta(hours=1),
        email=email,
        details=f"Hva vet dere om meg? ({number})",
        identity_checked=True,
    )
    return enquiry, request


def stored_key_ids() -> dict[str, set[str]]:
    """The key id of every stored ciphertext, by column, read as stored."""
    found: dict[str, set[str]] = {}
    q = connection.ops.quote_name
    for table in encrypted_tables():
        for model_field in table.fields:
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT {q(model_field.column)} FROM {q(table.model._meta.db_table)} "  # noqa: S608
                    f"WHERE {q(model_field.column)} IS NOT NULL"
                )
                for (value,) in cursor.fetchall():
                    found.setdefault(model_field.associated_data, set()).add(value.split(".")[1])
    return found


def stored_indexes() -> dict[str, set[str]]:
    """Every stored blind index, by column (chained rows included)."""
    found: dict[str, set[str]] = {}
    for column in index_columns():
        values = column.model._default_manager.exclude(**{column.name: ""}).values_list(column.name, flat=True)
        found[column.label] = set(values)
    return found
