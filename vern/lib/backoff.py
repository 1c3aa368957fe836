"""How long to wait before trying again: doubling, with a ceiling."""

from __future__ import annotations

import datetime as dt


def backoff(attempts: int, *, base: dt.timedelta, cap: dt.timedelta) -> dt.timedelta:
    """``base`` after the first failure, twice that after the second, …, never more than ``cap``."""
    seconds = base.total_seconds() * 2 ** max(attempts - 1, 0)
    return dt.timedelta(seconds=min(seconds, cap.total_seconds()))
