"""System checks: every registered model can be swept under the configured declaration."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, register

from vern.declaration.loading import DeclarationInvalid, load
from vern.declaration.schema import Declaration
from vern.lib.fields import EncryptedTextField
from vern.registry.entries import entries


def retention_problems(declaration: Declaration) -> list[Error]:
    errors = []
    for entry in entries():
        rule = declaration.rule(entry.retention)
        if rule is None:
            errors.append(
                Error(
                    f"{entry.label} follows the retention rule {entry.retention!r}, which the declaration lacks.",
                    hint="Add the rule to the declaration, or name a declared rule in the model's Privacy class.",
                    obj=entry.model,
                    id="vern.retention.E001",
                )
            )
        elif rule.exceptions and not entry.due:
            whens = ", ".join(e.when for e in rule.exceptions)
            errors.append(
                Error(
                    f"{entry.label}: the rule {rule.id!r} has exceptions ({whens}) that a sweep by the clock "
                    "field alone would ignore.",
                    hint="Give the model a due function in its app's surface, one that returns the rows due under "
                    "the rule and its exceptions (see vern/enquiries/apps.py).",
                    obj=entry.model,
                    id="vern.retention.E002",
                )
            )
        for name in entry.anonymise:
            field = entry.model._meta.get_field(name)
            if isinstance(field, EncryptedTextField) and not field.null:
                errors.append(
                    Error(
                        f"{entry.label}.{name} is anonymised by retention but is encrypted and not nullable, "
                        "so an anonymised row cannot be told from one still due.",
                        hint="Make the field null=True; anonymising sets it to NULL.",
                        obj=entry.model,
                        id="vern.retention.E003",
                    )
                )
    return errors


@register("vern")
def check_retention(app_configs: Any, **kwargs: Any) -> list[Error]:
    try:
        declaration = load(settings.VERN_DECLARATION).declaration
    except DeclarationInvalid:
        return []  # the declaration's own check reports this
    return retention_problems(declaration)
