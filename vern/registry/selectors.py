"""Finding a person's records in every registered model, by indexed lookups only."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.db import models

from vern.lib.ip import shorten_ip
from vern.lib.keys import email_index, email_indexes, phone_index, phone_indexes
from vern.registry.entries import Entry, entries


@dataclass(frozen=True)
class Found:
    entry: Entry
    records: models.QuerySet[models.Model]


def lookup_keys(
    *, email: str | None = None, phone: str | None = None, consent_id: str | None = None, ip: str | None = None
) -> dict[str, str]:
    """The stored form of each identifier: blind indexes for email and phone, a shortened IP.

    Raises ``InvalidIdentifier`` for an email or phone that is not one.
    """
    keys: dict[str, str] = {}
    if email:
        keys["email"] = email_index(email)
    if phone:
        keys["phone"] = phone_index(phone)
    if consent_id:
        keys["consent_id"] = consent_id.strip()
    if ip:
        keys["ip"] = shorten_ip(ip)
    return keys


def records_of(
    *, email: str | None = None, phone: str | None = None, consent_id: str | None = None, ip: str | None = None
) -> list[Found]:
    """Every registered model's rows for this person; each query uses an indexed column.

    Email and phone are looked up under every configured index key, so that rows which
    ``vern keys rotate`` has not yet recomputed under the current key are found too.
    """
    keys: dict[str, str | Sequence[str]] = dict(lookup_keys(consent_id=consent_id, ip=ip))
    if email:
        keys["email"] = email_indexes(email)
    if phone:
        keys["phone"] = phone_indexes(phone)
    return records_by_keys(keys)


def records_by_keys(keys: Mapping[str, str | Sequence[str]]) -> list[Found]:
    """Every registered model's rows for identifiers in their stored form (``lookup_keys``), in key order.

    A kind may name several stored forms (its blind index under each index key): any of them matches.
    """
    found = []
    for entry in entries():
        condition = models.Q()
        for kind, field_names in entry.identifiers.items():
            key = keys.get(kind)
            if key:
                for field_name in field_names:
                    if isinstance(key, str):
                        condition |= models.Q(**{field_name: key})
                    else:
                        condition |= models.Q(**{f"{field_name}__in": list(key)})
        if condition:
            found.append(Found(entry=entry, records=entry.model._default_manager.filter(condition).order_by("pk")))
    return found
