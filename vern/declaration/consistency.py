"""Code and declaration cannot drift: every registered model's purpose and rule must be declared."""

from __future__ import annotations

from django.utils.translation import gettext_noop

from vern.declaration.loading import Problem
from vern.declaration.schema import Declaration
from vern.registry.entries import entries


def _problem(where: str, template: str, **params: str) -> Problem:
    return Problem(where, None, template % params, template=template, params=tuple(params.items()))


def registry_problems(declaration: Declaration) -> list[Problem]:
    """What in the code's registry the declaration does not cover (or no longer covers)."""
    problems = []
    for entry in entries():
        purpose = declaration.purpose(entry.purpose)
        rule = declaration.rule(entry.retention)
        where = f"registry: {entry.label}"
        if purpose is None:
            problems.append(
                _problem(
                    where,
                    gettext_noop("stores data for the purpose %(purpose)s, which is not declared"),
                    purpose=repr(entry.purpose),
                )
            )
        if rule is None:
            problems.append(
                _problem(
                    where,
                    gettext_noop("follows the retention rule %(rule)s, which is not declared"),
                    rule=repr(entry.retention),
                )
            )
        if purpose is not None:
            for basis in entry.bases:
                if basis not in purpose.legal_bases:
                    problems.append(
                        _problem(
                            where,
                            gettext_noop(
                                "stores data on the legal basis (%(basis)s), "
                                "which the purpose %(purpose)s does not allow"
                            ),
                            basis=str(basis),
                            purpose=repr(entry.purpose),
                        )
                    )
        if rule is not None and purpose is not None and entry.purpose not in rule.purposes:
            problems.append(
                _problem(
                    where,
                    gettext_noop("the retention rule %(rule)s does not apply to the purpose %(purpose)s"),
                    rule=repr(rule.id),
                    purpose=repr(entry.purpose),
                )
            )
    return problems
