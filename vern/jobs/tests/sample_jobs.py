"""Jobs that exist only for the test suite (loaded through VERN_EXTRA_JOB_MODULES)."""

from __future__ import annotations

import datetime as dt
import os
import time
from pathlib import Path

from vern.jobs.registry import job


@job("tests.record", max_attempts=3, retry_base=dt.timedelta(seconds=0))
def record(*, path: str, token: str, sleep: float = 0.0) -> None:
    """Append ``token`` and this process's id to ``path``: a visible trace of each run."""
    if sleep:
        time.sleep(sleep)
    with Path(path).open("a", encoding="utf-8") as handle:
        handle.write(f"{token} {os.getpid()}\n")


@job("tests.explode", max_attempts=2, retry_base=dt.timedelta(seconds=60))
def explode(*, message: str = "boom") -> None:
    raise RuntimeError(message)


@job("tests.slow", max_attempts=3, lease=dt.timedelta(seconds=2), retry_base=dt.timedelta(seconds=0))
def slow(*, path: str, token: str, sleep: float) -> None:
    """Like ``tests.record`` but with a two-second lease, so a killed worker's job is freed quickly."""
    record(path=path, token=token, sleep=sleep)
