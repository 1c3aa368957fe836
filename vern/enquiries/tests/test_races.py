"""Two requests at once: a double click that reaches two server threads makes one enquiry."""

from __future__ import annotations

import threading

import pytest
from django.core.cache import cache
from django.db import connection

from vern.audit.services import Actor
from vern.declaration.services import declaration_publish
from vern.enquiries.models import Enquiry
from vern.enquiries.services import Intake, enquiry_submit
from vern.enquiries.tests.helpers import aged_token
from vern.enquiries.tokens import check
from vern.mail.models import OutboxMessage

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_same_form_sent_twice_at_the_same_moment_is_one_enquiry(default_source):
    cache.clear()
    declaration_publish(source=default_source, actor=Actor.cli())
    key = check(aged_token("contact"), "contact").submission_key
    intake = Intake(name="Kari", email="kari@example.no", phone="", organisation="Bergen kommune", message="Hei")
    start = threading.Barrier(2)
    results: list[object] = []

    def submit() -> None:
        try:
            start.wait()
            results.append(
                enquiry_submit(
                    kind="contact", channel="form", intake=intake, language="nb", submission_key=key, network="1.2.3.0"
                )
            )
        except Exception as exc:
            results.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sorted(r.created for r in results) == [False, True]
    assert Enquiry.objects.count() == 1
    assert OutboxMessage.objects.filter(kind="enquiry_received").count() == 1


def test_the_same_reply_sent_twice_at_the_same_moment_is_one_mail(default_source, personas):
    """A double click on "Send reply" that reaches two server threads sends one mail (issue 21)."""
    from vern.enquiries.models import ContactLog
    from vern.enquiries.services import enquiry_reply
    from vern.enquiries.tests.helpers import unowned

    cache.clear()
    declaration_publish(source=default_source, actor=Actor.cli())
    enquiry = unowned(personas.sales)
    key = check(aged_token("reply"), "reply").submission_key
    start = threading.Barrier(2)
    results: list[object] = []

    def reply() -> None:
        try:
            start.wait()
            results.append(
                enquiry_reply(staff=personas.sales, enquiry=enquiry, subject="Om prisen", body="Hei", reply_key=key)
            )
        except Exception as exc:
            results.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=reply) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not [r for r in results if isinstance(r, Exception)], results
    assert len({r.pk for r in results}) == 1  # both answers are the one reply
    assert ContactLog.objects.filter(enquiry=enquiry).count() == 1
    assert OutboxMessage.objects.filter(kind="enquiry_reply").count() == 1
