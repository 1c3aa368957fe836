"""System checks: every model says whether it holds personal data, and how it is found."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from typing import Any

from django.core.checks import Error, register
from django.db import models

from vern.registry.entries import THIRD_PARTY, Entry, other_models, read, suspicious_fields, vern_models
from vern.registry.surface import Declared, declared

# How many arguments each member's functions are called with (see vern/registry/surface.py).
ARITY = {
    "holders": 1,
    "withdrawers": 1,
    "restriction_checks": 1,
    "erasure_checks": 1,
    "consent_id_readers": 1,
    "cookie_consent": 3,
    "console_tiles": 1,
    "change_recipients": 0,
    "mail_withhold": 3,
    "declaration_checks": 1,
    "record_sections": 1,
    "subscription_offers": 1,
    "subscription_prompts": 1,
    "goal_recorders": 2,
    "external_finders": 1,
    "external_erasers": 2,
    "completion_blockers": 1,
    "request_notes": 1,
    "external_sweeps": 2,
    "external_replays": 1,
    "external_correctables": 1,
    "external_rectifiers": 2,
    "due": 2,
    "rectify": 3,
    "on_removal": 1,
}


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


def _callable_problem(function: Any, arguments: int) -> str:
    if not callable(function):
        return f"{function!r} is not callable"
    try:
        inspect.signature(function).bind(*([None] * arguments))
    except TypeError:
        return f"{getattr(function, '__qualname__', function)!r} does not take {arguments} argument(s)"
    except ValueError:  # a builtin without a signature: it is called and fails loudly if wrong
        pass
    return ""


def check_surfaces(items: Iterable[Declared]) -> list[Error]:
    """Every app's surface fits the app: functions of the right shape, models of its own, one cookie judge."""
    errors: list[Error] = []

    def error(app_label: str, problem: str) -> None:
        errors.append(
            Error(
                f"the surface of app {app_label!r}: {problem}",
                hint="See vern/registry/surface.py for what each member of a Surface is called with.",
                id="vern.registry.E004",
            )
        )

    judges: list[str] = []
    translators: list[str] = []
    for item in items:
        for member, value in item.surface.members():
            arguments = ARITY.get(member)
            if member in ("due", "rectify", "on_removal"):
                for model, function in value.items():
                    if not (isinstance(model, type) and issubclass(model, models.Model)):
                        error(item.app_label, f"{member} is keyed by {model!r}, which is not a model")
                        continue
                    if model._meta.app_label != item.app_label:
                        error(item.app_label, f"{member} names {model._meta.label}, a model of another app")
                    elif not isinstance(read(model), Entry):
                        error(item.app_label, f"{member} names {model._meta.label}, which is not a registered model")
                    if problem := _callable_problem(function, ARITY[member]):
                        error(item.app_label, f"{member} of {model._meta.label}: {problem}")
            elif member == "chains":
                for chain in value:
                    model = getattr(chain, "model", None)
                    if model is None or model._meta.app_label != item.app_label:
                        error(item.app_label, f"chain {getattr(chain, 'name', chain)!r} is not of one of its models")
            elif member == "cookie_consent":
                judges.append(item.app_label)
                if problem := _callable_problem(value, 3):
                    error(item.app_label, f"cookie_consent: {problem}")
            elif member == "consent_statistics":
                if problem := _callable_problem(value, 2):
                    error(item.app_label, f"consent_statistics: {problem}")
            elif member == "last_risk_review":
                if problem := _callable_problem(value, 0):
                    error(item.app_label, f"last_risk_review: {problem}")
            elif member == "index_forms":
                translators.append(item.app_label)
                if problem := _callable_problem(value, 0):
                    error(item.app_label, f"index_forms: {problem}")
            elif member == "rights_registrar":
                if problem := _callable_problem(value, 1):
                    error(item.app_label, f"rights_registrar: {problem}")
            elif member in ("processor_register", "last_risk_review"):
                if problem := _callable_problem(value, 0):
                    error(item.app_label, f"{member}: {problem}")
            elif arguments is not None:
                functions: tuple[Callable[..., Any], ...] = value
                for function in functions:
                    if problem := _callable_problem(function, arguments):
                        error(item.app_label, f"{member}: {problem}")
    if len(judges) > 1:
        errors.append(
            Error(
                f"apps {', '.join(judges)} each give cookie_consent; one app decides what a cookie choice allows",
                id="vern.registry.E005",
            )
        )
    if len(translators) > 1:
        errors.append(
            Error(
                f"apps {', '.join(translators)} each give index_forms; one app knows the index keys",
                id="vern.registry.E006",
            )
        )
    return errors


@register("vern")
def check_registry(app_configs: Any, **kwargs: Any) -> list[Error]:
    return check_models(vern_models()) + check_other_models(other_models()) + check_surfaces(declared())
