"""System check: the declaration vern would publish is valid and covers the code's registry."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, register

from vern.declaration.consistency import registry_problems
from vern.declaration.loading import DeclarationInvalid, load
from vern.declaration.rules import check


@register("vern")
def check_declaration(app_configs: Any, **kwargs: Any) -> list[Error]:
    path = settings.VERN_DECLARATION
    try:
        loaded = load(path)
    except DeclarationInvalid as exc:
        return [
            Error(f"VERN_DECLARATION {path}: {problem}", hint="Run `vern declaration check` on it.", id="vern.E101")
            for problem in exc.problems
        ]
    problems = check(loaded) + registry_problems(loaded.declaration)
    return [Error(f"VERN_DECLARATION {path}: {problem}", id="vern.E102") for problem in problems]
