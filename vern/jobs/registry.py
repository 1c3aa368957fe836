"""The catalogue of job kinds, filled by ``@job`` in each app's ``jobs.py``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from vern.lib.backoff import backoff
from vern.lib.days import OSLO

JobFunc = Callable[..., Any]


@dataclass(frozen=True)
class JobSpec:
    name: str
    func: JobFunc
    max_attempts: int
    lease: dt.timedelta
    retry_base: dt.timedelta
    every: dt.timedelta | None = None
    daily_at: dt.time | None = None  # wall-clock time in Europe/Oslo
    # A periodic job runs as soon as a worker first sees it, unless this is False: then its first
    # run is its first due time (a nightly backup at night, not whenever a worker starts).
    first_run_at_once: bool = True

    @property
    def periodic(self) -> bool:
        return self.every is not None or self.daily_at is not None

    def next_due(self, after: dt.datetime) -> dt.datetime:
        """The first due time strictly after ``after`` (an aware datetime)."""
        if self.every is not None:
            return after + self.every
        assert self.daily_at is not None
        local = after.astimezone(OSLO)
        candidate = dt.datetime.combine(local.date(), self.daily_at, tzinfo=OSLO)
        if candidate <= local:
            candidate = dt.datetime.combine(local.date() + dt.timedelta(days=1), self.daily_at, tzinfo=OSLO)
        return candidate.astimezone(dt.UTC)

    def backoff(self, attempts: int) -> dt.timedelta:
        """30 s, 1 min, 2 min, … after the 1st, 2nd, 3rd failure; never more than an hour."""
        return backoff(attempts, base=self.retry_base, cap=dt.timedelta(hours=1))


_SPECS: dict[str, JobSpec] = {}


class UnknownJob(LookupError):
    pass


def job(
    name: str,
    *,
    max_attempts: int = 5,
    lease: dt.timedelta = dt.timedelta(minutes=5),
    retry_base: dt.timedelta = dt.timedelta(seconds=30),
    every: dt.timedelta | None = None,
    daily_at: dt.time | None = None,
    first_run_at_once: bool = True,
) -> Callable[[JobFunc], JobFunc]:
    """Register ``func`` as the job ``name``; with ``every`` or ``daily_at`` it also runs periodically.

    The function receives the payload as keyword arguments and must be idempotent:
    it may run again after a crash, and must then do no harm.
    """
    if every is not None and daily_at is not None:
        raise ValueError(f"job {name}: give every= or daily_at=, not both")

    def register(func: JobFunc) -> JobFunc:
        existing = _SPECS.get(name)
        if existing is not None and _where(existing.func) != _where(func):
            raise ValueError(f"job name {name!r} is registered twice")
        _SPECS[name] = JobSpec(
            name=name,
            func=func,
            max_attempts=max_attempts,
            lease=lease,
            retry_base=retry_base,
            every=every,
            daily_at=daily_at,
            first_run_at_once=first_run_at_once,
        )
        return func

    return register


def _where(func: JobFunc) -> str:
    return f"{func.__module__}.{func.__qualname__}"


def get_spec(name: str) -> JobSpec:
    try:
        return _SPECS[name]
    except KeyError:
        raise UnknownJob(f"no job is registered under the name {name!r}") from None


def all_specs() -> list[JobSpec]:
    return sorted(_SPECS.values(), key=lambda spec: spec.name)
