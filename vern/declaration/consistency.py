"""Code and declaration cannot drift: every registered model's purpose and rule must be declared."""

from __future__ import annotations

from vern.declaration.loading import Problem
from vern.declaration.schema import Declaration
from vern.registry.entries import entries


def registry_problems(declaration: Declaration) -> list[Problem]:
    """What in the code's registry the declaration does not cover (or no longer covers)."""
    problems = []
    for entry in entries():
        purpose = declaration.purpose(entry.purpose)
        rule = declaration.rule(entry.retention)
        where = f"registry: {entry.label}"
        if purpose is None:
            problems.append(
                Problem(where, None, f"stores data for the purpose {entry.purpose!r}, which is not declared")
            )
        if rule is None:
            problems.append(
                Problem(where, None, f"follows the retention rule {entry.retention!r}, which is not declared")
            )
        if purpose is not None:
            for basis in entry.bases:
                if basis not in purpose.legal_bases:
                    problems.append(
                        Problem(
                            where,
                            None,
                            f"stores data on the legal basis ({basis}), which the purpose {entry.purpose!r} "
                            "does not allow",
                        )
                    )
        if rule is not None and purpose is not None and entry.purpose not in rule.purposes:
            problems.append(
                Problem(where, None, f"the retention rule {rule.id!r} does not apply to the purpose {entry.purpose!r}")
            )
    return problems
