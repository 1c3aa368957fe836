"""Model fields for personal data at rest.

``EncryptedTextField`` stores AES-GCM ciphertext (see ``vern.lib.crypto``) and
gives Python code the plain text. The associated data is the column's own name
(``app_label.Model.field``), so a ciphertext moved to another column fails to
decrypt instead of showing wrong data. A ciphertext cannot be searched: every
lookup except ``isnull`` is refused, and lookups go through a blind-index
column beside it (``email_index``), which the service fills from the
normalised value.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Lookup
from django.db.models.lookups import IsNull

from vern.lib.keys import keyring


class EncryptedTextField(models.TextField):  # type: ignore[type-arg]
    description = "Text encrypted at rest with AES-256-GCM"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if kwargs.get("unique") or kwargs.get("db_index"):
            raise ValueError("an encrypted field cannot be unique or indexed; index a blind index column")
        super().__init__(*args, **kwargs)

    @property
    def associated_data(self) -> str:
        return f"{self.model._meta.label}.{self.name}"

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if value is None:
            return None
        return keyring().decrypt(value, associated_data=self.associated_data)

    def get_prep_value(self, value: Any) -> str | None:
        value = super().get_prep_value(value)
        if value is None:
            return None
        return keyring().encrypt(str(value), associated_data=self.associated_data)

    def get_lookup(self, lookup_name: str) -> type[Lookup[Any]] | None:
        if lookup_name != "isnull":
            raise TypeError(
                f"{self.associated_data} is encrypted and cannot be searched with __{lookup_name}; "
                "use its blind index column"
            )
        return IsNull
