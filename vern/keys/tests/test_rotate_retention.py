"""Legal holds, open requests and restrictions keep people's data while the index key rotates (P11, P24).

A hold, an open rights request and a restriction name the person by a blind index; the rows
they keep carry one too. While ``VERN_INDEX_KEYS`` lists a new key and an old one, the two can
be under different keys, in either direction: a hold placed before the new key arrived, on a
person whose rows the rotation has already recomputed (or who wrote again since); or a hold
placed under the new key, on rows the rotation has not reached. A retention sweep then must
keep every held row and still remove the rest.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from vern.audit.services import Actor
from vern.declaration.durations import Duration
from vern.enquiries.models import ContactLog, Enquiry
from vern.enquiries.services import Intake, enquiry_register
from vern.keys.services import keys_rotate
from vern.keys.tests.helpers import retire_settings, rotate_settings
from vern.lib.keys import email_index, email_indexes
from vern.retention.models import Run
from vern.retention.services import hold_place, retention_sweep
from vern.rights.models import Request, Restriction
from vern.rights.services.intake import request_register
from vern.rights.services.restriction import restriction_start

pytestmark = pytest.mark.django_db
TWO_YEARS = Duration.parse("24 months")


def due_enquiry(staff: Any, email: str) -> Enquiry:
    """An enquiry whose last contact was a month more than its 24 months ago."""
    enquiry = enquiry_register(
        staff=staff,
        kind="contact",
        channel="email",
        received_at=timezone.now() - dt.timedelta(days=1),
        intake=Intake(name="Kari Nordmann", email=email, phone="", organisation="Bergen kommune"),
        language="nb",
        acknowledge=False,
    )
    old = TWO_YEARS.before(timezone.now()) - dt.timedelta(days=30)
    ContactLog.objects.filter(enquiry=enquiry).update(happened_at=old)
    Enquiry.objects.filter(pk=enquiry.pk).update(received_at=old, last_contact_at=old)
    return enquiry


def open_request(staff: Any, email: str, rights: tuple[str, ...] = ("rectification",)) -> Request:
    # Rectification waits for staff, so the request stays open and holds the person's data.
    return request_register(
        staff=staff,
        rights=list(rights),
        channel="email",
        received_at=timezone.now() - dt.timedelta(hours=1),
        email=email,
        details="Adressen min er feil.",
        identity_checked=True,
    )


def sweep() -> Run:
    run = retention_sweep(trigger="cli", actor=Actor.cli())
    assert run.status == "done", run.error
    return run


def test_p24_holds_under_one_index_key_keep_rows_stored_under_the_other(
    published: Any, personas: Any, settings: Any
) -> None:
    pia = personas.privacy_officer
    ends = timezone.now() + dt.timedelta(days=90)

    # Under the old key only: rows of people held later, and holds on people whose rows come later.
    rows_before = {who: due_enquiry(pia, f"{who}@example.no") for who in ("anne", "brage", "cecilie")}
    hold_place(staff=pia, reason="Tvist om faktura", ends_at=ends, email="dag@example.no")
    old_request = open_request(pia, "erik@example.no")
    frida = open_request(pia, "frida@example.no", ("restriction",))
    restriction_start(frida, actor=Actor.staff(pia), staff=pia)
    old_forms = {who: email_index(f"{who}@example.no") for who in ("dag", "erik", "frida")}

    # A new index key is put in front. Before any rotation, new writes use it.
    rotate_settings(settings)
    hold_place(staff=pia, reason="Krav om erstatning", ends_at=ends, email="anne@example.no")
    new_request = open_request(pia, "brage@example.no")
    rows_after = {who: due_enquiry(pia, f"{who}@example.no") for who in ("dag", "erik", "frida", "gro")}
    # The two sides really are under different keys: each stored index matches only its own side.
    assert Enquiry.objects.get(pk=rows_before["anne"].pk).email_index == email_indexes("anne@example.no")[1]
    assert new_request.email_index == email_indexes("brage@example.no")[0]
    assert Request.objects.get(pk=old_request.pk).email_index == old_forms["erik"] != email_index("erik@example.no")
    assert Restriction.objects.filter(subject_key=old_forms["frida"], lifted_at__isnull=True).exists()
    assert Enquiry.objects.get(pk=rows_after["dag"].pk).email_index != old_forms["dag"]

    run = sweep()

    kept = set(Enquiry.objects.values_list("pk", flat=True))
    # Held under the new key, stored under the old: a legal hold (Anne), an open request (Brage).
    assert {rows_before["anne"].pk, rows_before["brage"].pk} <= kept
    # Held under the old key, stored under the new: a legal hold (Dag), an open request (Erik),
    # a restriction (Frida).
    assert {rows_after["dag"].pk, rows_after["erik"].pk, rows_after["frida"].pk} <= kept
    # Nobody holds Cecilie's (old key) or Gro's (new key) rows: they are gone, as their rule says.
    assert rows_before["cecilie"].pk not in kept and rows_after["gro"].pk not in kept
    assert run.counts["enquiries.Enquiry"] == 2

    # The rotation finishes and the old key leaves: the holds still keep what they kept.
    assert keys_rotate().complete
    retire_settings(settings)
    sweep()
    assert set(Enquiry.objects.values_list("pk", flat=True)) == kept


def test_p11_the_retention_plan_counts_rows_held_across_keys_as_held(
    published: Any, personas: Any, settings: Any
) -> None:
    """The console's plan says what the sweep will do: a row held under the other key is held, not due."""
    from vern.retention.selectors import plan_rows

    pia = personas.privacy_officer
    held = due_enquiry(pia, "hanne@example.no")
    due_enquiry(pia, "ivar@example.no")
    rotate_settings(settings)
    hold_place(staff=pia, reason="Tvist", ends_at=timezone.now() + dt.timedelta(days=30), email="hanne@example.no")
    enquiries = next(row for row in plan_rows("en") if row.label == "enquiries.Enquiry")
    assert (enquiries.due, enquiries.held) == (1, 1)
    sweep()
    assert list(Enquiry.objects.values_list("pk", flat=True)) == [held.pk]
