"""Scans as proof (issue 17 item 3): each result kept with its pictures and its digest in the audit
chain, scanned daily and after each publication, read in the console, and a new violation mailed
to the privacy officers."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from conftest import CHROMIUM
from vern.accounts.testing import staff_login
from vern.audit.models import Entry
from vern.audit.services import Actor, audit_verify
from vern.declaration.services import declaration_publish
from vern.mail.models import OutboxMessage
from vern.scanner.models import ScanRun
from vern.scanner.services import scan_record, scans_due

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.urls("vern.scanner.tests.urls")]


@pytest.fixture
def site(live_server: Any, settings: Any, default_source: str) -> str:
    settings.VERN_PUBLIC_URL = live_server.url
    declaration_publish(source=default_source, actor=Actor.cli())
    return str(live_server.url) + "/"


def test_p8_a_scan_is_kept_as_proof_and_a_new_violation_is_mailed_once(site: str, personas: Any, client: Any) -> None:
    clean = scan_record(url=site, trigger="schedule", actor=Actor.system(), chromium=CHROMIUM, pages=2)
    assert clean.status == "clean" and clean.findings == [] and clean.counts["pages"] == 2
    assert sorted(clean.shots.values_list("pass_name", flat=True)) == ["accept", "none", "reject", "withdraw"]
    entry = Entry.objects.get(action="scan.record", object_id=str(clean.pk))
    assert entry.data["digest"] == clean.digest and len(clean.digest) == 64
    assert audit_verify().ok
    assert not OutboxMessage.objects.filter(kind="staff_scan_findings").exists()

    bad = site + "scan-preticked/"
    first = scan_record(
        url=bad, trigger="staff", actor=Actor.staff(personas.privacy_officer), chromium=CHROMIUM, pages=1
    )
    assert first.status == "findings"
    assert {f["rule"] for f in first.findings} >= {"preticked", "unequal-buttons"}
    mails = OutboxMessage.objects.filter(kind="staff_scan_findings")
    assert [m.to_address for m in mails] == [personas.privacy_officer.email]
    assert f"/staff/scans/{first.pk}/" in mails[0].body_text and "example" not in mails[0].subject
    again = scan_record(url=bad, trigger="schedule", actor=Actor.system(), chromium=CHROMIUM, pages=1)
    assert again.status == "findings" and mails.count() == 1  # nothing new: nobody is mailed again

    # The console, in each staff member's language; the pictures are served to those who may see them.
    staff_login(client, personas.privacy_officer)
    page = client.get(f"/en/staff/scans/{first.pk}/").content.decode()
    assert "Optional category switched on in advance" in page and "They differ in: " in page
    assert "font size" in page and first.digest in page
    page = client.get(f"/staff/scans/{first.pk}/").content.decode()
    assert "Valgfri kategori slått på på forhånd" in page and "skriftstørrelse" in page
    overview = client.get("/en/staff/scans/").content.decode()
    assert site in overview and "Clean" in overview and "2 findings" not in overview
    picture = client.get(f"/staff/scans/{first.pk}/none.jpg")
    assert picture.status_code == 200 and picture["Content-Type"] == "image/jpeg" and picture.content[:2] == b"\xff\xd8"
    client.logout()
    staff_login(client, personas.sales)  # no READ_CONSENT
    assert client.get(f"/staff/scans/{first.pk}/none.jpg").status_code == 403


def test_p8_the_sites_are_scanned_daily_and_after_each_publication(site: str, default_source: str) -> None:
    assert scans_due() == [(site, "schedule")]  # never scanned
    scan_record(url=site, trigger="schedule", actor=Actor.system(), chromium=CHROMIUM, pages=1)
    assert scans_due() == []
    declaration_publish(source=default_source.replace("Vi svarer normalt", "Vi svarer"), actor=Actor.cli())
    assert scans_due() == [(site, "publish")]
    with time_machine.travel(timezone.now() + dt.timedelta(hours=25)):
        assert scans_due() == [(site, "schedule")]


def test_a_scan_that_cannot_run_is_recorded_as_such(site: str, personas: Any) -> None:
    run = scan_record(url=site, trigger="schedule", actor=Actor.system(), chromium="/nonexistent/chromium", pages=1)
    assert run.status == "failed" and "Chromium could not start" in run.problems[0]
    assert ScanRun.objects.get(pk=run.pk).digest == run.digest
    # Another declared site on the server's own network is refused: the declaration cannot point
    # the worker's browser (and its pictures) at internal addresses. vern's own site is scanned.
    internal = scan_record(url="http://127.0.0.1:9/admin/", trigger="schedule", actor=Actor.system(), pages=1)
    assert internal.status == "failed" and "private network" in internal.problems[0]
    assert not internal.shots.exists()
