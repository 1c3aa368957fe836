"""The shared counters' housekeeping."""

from __future__ import annotations

import datetime as dt

from vern.jobs.registry import job
from vern.lib import counters


@job("ops.counters_sweep", every=dt.timedelta(minutes=15))
def counters_sweep() -> None:
    """Expired rate-limit windows and login counters read as zero already; this deletes their rows."""
    counters.sweep()
