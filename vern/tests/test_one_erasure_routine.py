"""A retention sweep and an erasure request remove a row through one routine, so both leave it the same.

The model here anonymises (``vern/tests/anonymising``): its encrypted name and address are
cleared, its city and webinar stay for the counts, and the questions the person asked go.
Runs on SQLite and on PostgreSQL (``DATABASE_URL``), with the tables made for the test.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.forms.models import model_to_dict
from django.test.utils import isolate_apps
from django.utils import timezone

from vern.audit.services import Actor
from vern.lib.keys import email_index
from vern.registry.checks import check_models
from vern.registry.entries import entries
from vern.retention.services import retention_sweep
from vern.rights.services import intake
from vern.rights.services.erasure import erasure_carry_out

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def anonymising(settings: Any, tmp_path: Any) -> Iterator[tuple[Any, Any]]:
    """The test app installed, with its tables, and gone again afterwards."""
    settings.DATA_DIR = tmp_path
    settings.INSTALLED_APPS = [*django_settings.INSTALLED_APPS, "vern.tests.anonymising"]
    from vern.tests.anonymising.models import Attendee, Question

    with connection.schema_editor() as editor:
        editor.create_model(Attendee)
        editor.create_model(Question)
    try:
        yield Attendee, Question
    finally:
        with connection.schema_editor() as editor:
            editor.delete_model(Question)
            editor.delete_model(Attendee)


def attendee(model: Any, question: Any, email: str, *, registered_at: dt.datetime) -> Any:
    row = model.objects.create(
        email=email,
        email_index=email_index(email),
        name="Kari Nordmann",
        city="Bergen",
        webinar="Personvern for små bedrifter",
        registered_at=registered_at,
    )
    question.objects.create(attendee=row, text=f"Kan dere svare meg på {email}?")
    return row


def test_a_sweep_and_an_erasure_request_leave_an_anonymised_row_the_same(anonymising, published, personas):
    Attendee, Question = anonymising
    assert "anonymising.Attendee" in {entry.label for entry in entries()}
    now = timezone.now()
    swept = attendee(Attendee, Question, "old@example.no", registered_at=now - dt.timedelta(days=120))
    erased = attendee(Attendee, Question, "asks@example.no", registered_at=now - dt.timedelta(days=3))
    kept = attendee(Attendee, Question, "other@example.no", registered_at=now - dt.timedelta(days=3))

    # The sweep takes the one past the rule's 90 days.
    run = retention_sweep(trigger="test", actor=Actor.system())
    assert run.counts.get("anonymising.Attendee") == 1 and run.counts.get("anonymising.Question") == 1

    # The erasure request takes the one who asked.
    pia = personas.privacy_officer
    request = intake.request_register(
        staff=pia,
        rights=["erasure"],
        channel="email",
        received_at=now - dt.timedelta(minutes=1),
        email="asks@example.no",
        identity_checked=True,
    )
    receipt = erasure_carry_out(request=request, staff=pia, actor=Actor.staff(pia))
    assert receipt.anonymised == {"anonymising.Attendee": 1} and receipt.deleted["anonymising.Question"] == 1

    # Both rows are left alike: no name, no address, no index; the city and webinar stay.
    swept.refresh_from_db()
    erased.refresh_from_db()
    left = {"email": None, "email_index": "", "name": None, "city": "Bergen", "webinar": "Personvern for små bedrifter"}
    for row in (swept, erased):
        assert {name: value for name, value in model_to_dict(row).items() if name in left} == left
    assert not Question.objects.filter(attendee__in=[swept, erased]).exists()
    # The other person is untouched.
    kept.refresh_from_db()
    assert kept.name == "Kari Nordmann" and kept.email == "other@example.no"
    assert Question.objects.filter(attendee=kept).count() == 1

    # A second sweep finds nothing left to clear, although the cleared fields are encrypted.
    again = retention_sweep(trigger="test", actor=Actor.system())
    assert "anonymising.Attendee" not in again.counts


@isolate_apps("vern.site")
def test_an_encrypted_field_that_anonymising_clears_must_allow_null():
    from django.db import models

    from vern.lib.fields import EncryptedTextField

    class Caller(models.Model):
        phone_index = models.CharField(max_length=64, db_index=True)
        name = EncryptedTextField()
        called_at = models.DateTimeField()

        class Meta:
            app_label = "site"

        class Privacy:
            purpose = "operations"
            retention = "mail_log"
            identifiers = {"phone": "phone_index"}
            clock = "called_at"
            erasure = "anonymise"
            anonymise = ("name",)

    messages = [error.msg for error in check_models([Caller])]
    assert (
        "site.Caller: field 'name' is encrypted and anonymised, so it must allow NULL: "
        "a cleared row is then told from one that still holds data without decrypting it"
    ) in messages
