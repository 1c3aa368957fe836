"""Erasures handed to other systems' webhooks: retried with backoff until they answer."""

from __future__ import annotations

import datetime as dt

from vern.connectors.services import webhook_erasure_run, webhook_rectify_run
from vern.jobs.registry import job


@job("connectors.webhook_erase", max_attempts=6, retry_base=dt.timedelta(minutes=1))
def webhook_erase(*, erasure_id: int) -> None:
    """Idempotent: an erasure already answered is not asked again."""
    webhook_erasure_run(erasure_id=erasure_id)


@job("connectors.webhook_rectify", max_attempts=6, retry_base=dt.timedelta(minutes=1))
def webhook_rectify(*, correction_id: int) -> None:
    """Idempotent: a correction already answered is not asked again."""
    webhook_rectify_run(correction_id=correction_id)
