"""System checks: every model says whether it holds personal data, and how it is found."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.checks import Error, register
from django.db import models

from vern.registry.entries import THIRD_PARTY, other_models, read, suspicious_fields, vern_models


def check_models(candidates: Iterable[type[models.Model]]) -> list[Error]:
    errors: list[Error] = []
    for model in candidates:
        item = read(model)
        label = model._meta.label
        if item is None:
            fields = suspicious_fields(model)
            detail = f" It looks like personal data: {', '.join(fields)}." if fields else ""
            errors.append(
                Error(
                    f"{label} does not say whether it holds personal data.{detail}",
                    hint="Give it a Privacy class (see vern/registry/entries.py): register it, "
                    "or state not_personal or staff_data with the reason.",
                    obj=model,
                    id="vern.registry.E001",
                )
            )
        else:
            errors += [Error(f"{label}: {problem}", obj=model, id="vern.registry.E002") for problem in item.problems]
    return errors


def check_other_models(candidates: Iterable[type[models.Model]]) -> list[Error]:
    """A model from another app must be listed in THIRD_PARTY, so that its data is accounted for."""
    return [
        Error(
            f"{model._meta.label} (from another app) is not in the registry's THIRD_PARTY list.",
            hint="Add it to THIRD_PARTY in vern/registry/entries.py with what it holds.",
            obj=model,
            id="vern.registry.E003",
        )
        for model in candidates
        if model._meta.label not in THIRD_PARTY
    ]


@register("vern")
def check_registry(app_configs: Any, **kwargs: Any) -> list[Error]:
    return check_models(vern_models()) + check_other_models(other_models())
