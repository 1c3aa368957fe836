"""Hits the buffer cannot write while the database is down go to the spool file, and are stored later."""

from __future__ import annotations

import datetime as dt

import pytest

from vern.analytics.buffer import BUFFER, SPOOL
from vern.analytics.models import Hit
from vern.jobs.spool import drain_all
from vern.testing import database_unreachable


@pytest.mark.django_db(transaction=True)
def test_hits_the_buffer_cannot_write_go_to_the_spool_and_are_stored_once_the_database_answers(published):
    from vern.analytics.buffer import HIT_COLUMNS

    now = dt.datetime.now(dt.UTC)
    old = (now, 1, 1, "v" * 32, "", "", "/", "", "", "Firefox", "133", "Windows", "10", "desktop", "192.0.2.0", 0)
    row = (*old, "NO", "direct", "", "", "", "")
    assert len(row) == len(HIT_COLUMNS)
    BUFFER.add_hit(row)
    with database_unreachable():
        assert BUFFER.flush() == 0
    assert BUFFER.pending == 0  # nothing waits in memory: it is in the spool file
    (segment,) = SPOOL.pending()
    assert b"192.0.2.0" in segment.read_bytes()
    assert drain_all() == 1
    stored = Hit.objects.get()
    assert (stored.path, stored.ip, stored.at) == ("/", "192.0.2.0", now)
