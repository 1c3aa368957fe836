"""``vern check --deploy``: a deployment whose worker runs has a recent backup, and the tools to make one."""

from __future__ import annotations

from typing import Any

from django.core.checks import Warning, register
from django.db import DatabaseError

from vern.backups import engines, selectors


@register("vern", deploy=True)
def check_backups(app_configs: Any, **kwargs: Any) -> list[Warning]:
    problems: list[Warning] = []
    try:
        missing = engines.missing_tools()
    except engines.EngineError as exc:
        return [Warning(f"Backups cannot be made: {exc}.", id="vern.backups.W001")]
    if missing:
        problems.append(
            Warning(
                f"{' and '.join(missing)} are not installed here: `vern backup`, `vern restore` and the "
                "worker's nightly backup of the PostgreSQL database cannot run on this machine.",
                hint=f"Install {engines.PG_PACKAGE} on the machines that run the worker.",
                id="vern.backups.W001",
            )
        )
    try:
        late = selectors.overdue()
    except DatabaseError:  # not migrated yet: the migration check says so
        return problems
    if late:
        success = selectors.last_success()
        when = f"the last one was made {success.finished_at:%Y-%m-%d %H:%M} UTC" if success else "none was made"
        problems.append(
            Warning(
                f"No backup has succeeded in the last 26 hours ({when}), although the worker runs (P18, R16).",
                hint="Look at the job backups.nightly on /staff/ops/jobs/, or run `vern backup` and read its error.",
                id="vern.backups.W002",
            )
        )
    return problems
