"""A scan that stopped part way says so on the console in the staff member's language."""

from __future__ import annotations

import pytest
from django.utils import timezone

from vern.accounts.testing import staff_login
from vern.scanner.crawl import NOT_INSTALLED, partial
from vern.scanner.models import ScanRun

pytestmark = pytest.mark.django_db


def test_a_partial_scan_reads_in_norwegian_and_english_while_the_stored_record_stays_as_it_was(client, personas):
    problems = [partial("reject", "Timeout 30000ms exceeded"), NOT_INSTALLED, "Chromium could not start"]
    scan = ScanRun.objects.create(
        url="https://kaukus.no/",
        trigger=ScanRun.Trigger.STAFF,
        status=ScanRun.Status.FAILED,
        finished_at=timezone.now(),
        problems=problems,
        digest="ab" * 32,
    )
    staff_login(client, personas.privacy_officer)
    norwegian = client.get(f"/staff/scans/{scan.pk}/").content.decode()
    assert (
        "Etter «Avvis alle»: denne runden stoppet (Timeout 30000ms exceeded). Rapporten er ufullstendig." in norwegian
    )
    assert "Skanneren er ikke installert på denne serveren" in norwegian
    assert "Chromium could not start" in norwegian  # the browser's own words, as it gave them
    assert "the report is partial" not in norwegian
    english = client.get(f"/en/staff/scans/{scan.pk}/").content.decode()
    assert "After rejecting all: this pass stopped (Timeout 30000ms exceeded). The report is partial." in english
    scan.refresh_from_db()
    assert scan.problems == problems and "pass reject: Timeout 30000ms exceeded; the report is partial" in problems
