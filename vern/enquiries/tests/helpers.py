"""What the enquiry tests share: a visitor's details, and a token as a real page would have given."""

from __future__ import annotations

import datetime as dt
import re
import time
from typing import Any

from django.db import connection
from django.utils import timezone

from vern.enquiries import tokens
from vern.enquiries.models import Enquiry
from vern.enquiries.services import Intake, enquiry_register

CONTACT = {
    "name": "Kari Nordmann",
    "email": "Kari.Nordmann@Example.no",
    "phone": "912 34 567",
    "organisation": "Bergen kommune",
    "message": "Hva koster det for et kommunestyre med 67 medlemmer?",
}


def next_weekday(days: int = 7) -> dt.date:
    day = timezone.localdate() + dt.timedelta(days=days)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return day


def demo_fields() -> dict[str, str]:
    return {
        "name": "Ola Hansen",
        "email": "ola@fjord-kommune.no",
        "phone": "+47 41 23 45 67",
        "organisation": "Fjord kommune",
        "message": "Møteplanlegging og publisering",
        "preferred_date": next_weekday().isoformat(),
        "preferred_time": "morning",
    }


def aged_token(kind: str, seconds: float = 30) -> str:
    """A token from a page the visitor opened ``seconds`` ago."""
    return tokens.issue(kind, now=time.time() - seconds)


def send(client: Any, kind: str, fields: dict[str, str], *, lang: str = "nb", token: str | None = None, **extra: Any):
    """Post the form as a browser on this site's page would (it names the page's origin)."""
    path = f"/{'en/' if lang == 'en' else ''}{kind}/"
    data = {**fields, "token": aged_token(kind) if token is None else token}
    extra.setdefault("HTTP_ORIGIN", "http://testserver")
    return client.post(path, data, **extra)


class FailingOutbox:
    """A real database error in the middle of a submission: the outbox refuses every insert."""

    def __enter__(self) -> FailingOutbox:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(
                    "CREATE FUNCTION vern_test_fail() RETURNS trigger AS $$ "
                    "BEGIN RAISE EXCEPTION 'could not extend file: No space left on device'; END $$ LANGUAGE plpgsql"
                )
                cursor.execute(
                    "CREATE TRIGGER vern_test_fail BEFORE INSERT ON mail_outboxmessage "
                    "FOR EACH ROW EXECUTE FUNCTION vern_test_fail()"
                )
            else:
                cursor.execute(
                    "CREATE TRIGGER vern_test_fail BEFORE INSERT ON mail_outboxmessage "
                    "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END"
                )
        return self

    def __exit__(self, *exc: object) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "DROP TRIGGER vern_test_fail ON mail_outboxmessage"
                if connection.vendor == "postgresql"
                else "DROP TRIGGER vern_test_fail"
            )
            if connection.vendor == "postgresql":
                cursor.execute("DROP FUNCTION vern_test_fail()")


def make(
    staff: Any,
    *,
    name: str = "Kari Nordmann",
    organisation: str = "Bergen kommune",
    email: str = "kari@bergen.kommune.no",
    **extra: Any,
) -> Enquiry:
    """An enquiry that came by email yesterday, registered by ``staff`` without an acknowledgement."""
    fields: dict[str, Any] = {
        "staff": staff,
        "kind": "contact",
        "channel": "email",
        "received_at": timezone.now() - dt.timedelta(days=1),
        "intake": Intake(name=name, email=email, phone=extra.pop("phone", ""), organisation=organisation),
        "language": extra.pop("language", "nb"),
        "acknowledge": False,
    }
    fields.update(extra)
    return enquiry_register(**fields)


def unowned(staff: Any, **fields: Any) -> Enquiry:
    """As ``make``, but nobody's yet (registered by staff, an enquiry is theirs), as one from a form."""
    enquiry = make(staff, **fields)
    Enquiry.objects.filter(pk=enquiry.pk).update(owner=None)
    enquiry.refresh_from_db()
    return enquiry


def names_listed(html: str) -> list[str]:
    """The names in the inbox's list, in its order."""
    return re.findall(r'<td class="inbox__who stack__title"><a href="/(?:en/)?staff/enquiries/\d+/">([^<]+)</a>', html)
