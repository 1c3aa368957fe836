"""Where keys are used: every encrypted column, and every blind-index column of the registry.

Found from the models themselves (``EncryptedTextField``) and from each registered model's
``Privacy.identifiers``, never from a list kept here, so a new app's columns rotate too.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import models

from vern.audit.chain import HashChain, chain_of
from vern.lib.fields import EncryptedTextField
from vern.registry.entries import entries

# Identifier kinds whose stored form is a blind index under the index key.
INDEXED_KINDS = ("email", "phone")


@dataclass(frozen=True)
class EncryptedTable:
    """A model with its encrypted columns."""

    model: type[models.Model]
    fields: tuple[EncryptedTextField, ...]

    @property
    def label(self) -> str:
        return self.model._meta.label


@dataclass(frozen=True)
class IndexColumn:
    """A column holding blind indexes, with the encrypted column it is the index of (if any).

    ``partner`` is the plain value's column beside the index (``email`` beside ``email_index``,
    ``to_address`` beside ``to_index``): from it the index is computed again under a new key.
    A column without one (``subject_key``, ``about_index``) is translated through the indexes of
    people whose plain value is stored somewhere; a reference whose plain value is stored
    nowhere (a person who was erased) cannot be recomputed and matches only while the key that
    made it is configured.
    """

    model: type[models.Model]
    name: str
    kind: str  # "email", "phone", or "mixed" for a column that holds either
    partner: EncryptedTextField | None

    @property
    def label(self) -> str:
        return f"{self.model._meta.label}.{self.name}"

    @property
    def column(self) -> str:
        """The database column of the index."""
        model_field = self.model._meta.get_field(self.name)
        assert isinstance(model_field, models.Field)
        return str(model_field.column)

    @property
    def chain(self) -> HashChain | None:
        """The hash chain the column's rows belong to: its values are part of a mac and never rewritten."""
        return chain_of(self.model)


def _rotatable(model: type[models.Model]) -> bool:
    return model._meta.managed and not model._meta.proxy and isinstance(model._meta.pk, models.AutoField)


def encrypted_tables() -> list[EncryptedTable]:
    found = []
    for model in apps.get_models():
        fields = tuple(field for field in model._meta.concrete_fields if isinstance(field, EncryptedTextField))
        if fields:
            if not _rotatable(model):
                raise RuntimeError(f"{model._meta.label} has encrypted fields but no integer primary key to rotate by")
            found.append(EncryptedTable(model=model, fields=fields))
    return sorted(found, key=lambda table: table.label)


def _partner(model: type[models.Model], name: str) -> EncryptedTextField | None:
    if not name.endswith("_index"):
        return None
    base = name.removesuffix("_index")
    for candidate in (base, f"{base}_address"):
        try:
            field = model._meta.get_field(candidate)
        except FieldDoesNotExist:
            continue
        if isinstance(field, EncryptedTextField):
            return field
    return None


def index_columns() -> list[IndexColumn]:
    kinds: dict[tuple[type[models.Model], str], set[str]] = {}
    for entry in entries():
        for kind, names in entry.identifiers.items():
            if kind in INDEXED_KINDS:
                for name in names:
                    kinds.setdefault((entry.model, name), set()).add(kind)
    columns = []
    for (model, name), found in kinds.items():
        if not _rotatable(model):
            raise RuntimeError(f"{model._meta.label} has blind indexes but no integer primary key to rotate by")
        kind = found.pop() if len(found) == 1 else "mixed"
        columns.append(IndexColumn(model=model, name=name, kind=kind, partner=_partner(model, name)))
    return sorted(columns, key=lambda column: column.label)


def chained_models() -> list[tuple[type[models.Model], HashChain]]:
    """Every model whose rows form a keyed hash chain (the audit log, the consent proof)."""
    found = []
    for model in apps.get_models():
        chain = chain_of(model)
        if chain is not None:
            found.append((model, chain))
    return sorted(found, key=lambda item: item[0]._meta.label)
