"""When an enquiry is due for deletion: 24 months after the last contact, unless a customer (P11).

These are the dates the inbox shows and the retention sweep (issue 6) acts on; the
boundary is tested a day either side, on the real query the sweep will use.
"""

from __future__ import annotations

import datetime as dt

import pytest

from vern.declaration.selectors import declaration_of
from vern.enquiries.models import Enquiry
from vern.enquiries.selectors import Retention

pytestmark = pytest.mark.django_db
LAST_CONTACT = dt.datetime(2025, 3, 31, 14, 0, tzinfo=dt.UTC)
TWO_YEARS_LATER = dt.datetime(2027, 3, 31, 14, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


def enquiry(published, **fields) -> Enquiry:
    defaults = {
        "kind": "contact",
        "channel": "form",
        "name": "Kari",
        "email": "kari@example.no",
        "email_index": "k" * 64,
        "organisation": "Bergen kommune",
        "legal_basis": "f",
        "policy_version": published.number,
        "received_at": LAST_CONTACT - dt.timedelta(days=60),
        "last_contact_at": LAST_CONTACT,
    }
    return Enquiry.objects.create(**{**defaults, **fields})


def due(retention: Retention, moment: dt.datetime) -> set[int]:
    return set(Enquiry.objects.filter(retention.due_by(moment)).values_list("pk", flat=True))


def test_p11_an_enquiry_is_kept_24_months_after_the_last_contact_and_not_a_day_longer(published):
    retention = Retention.of(declaration_of(published))
    kept = enquiry(published)
    assert retention.deletion_at(kept) == TWO_YEARS_LATER
    assert due(retention, TWO_YEARS_LATER - DAY) == set()
    assert due(retention, TWO_YEARS_LATER + DAY) == {kept.pk}


def test_p11_the_clock_runs_from_the_last_contact_not_from_the_enquiry(published):
    retention = Retention.of(declaration_of(published))
    recontacted = enquiry(published, last_contact_at=LAST_CONTACT + dt.timedelta(days=200))
    assert due(retention, TWO_YEARS_LATER + DAY) == set()
    assert retention.deletion_at(recontacted) == TWO_YEARS_LATER + dt.timedelta(days=200)


def test_p11_a_customer_is_kept_while_the_relationship_lasts_then_follows_the_customer_rule(published):
    retention = Retention.of(declaration_of(published))
    customer = enquiry(published, status="customer", became_customer_at=LAST_CONTACT)
    assert retention.deletion_at(customer) is None
    assert due(retention, TWO_YEARS_LATER + dt.timedelta(days=3650)) == set()
    ended = dt.datetime(2026, 1, 15, 12, 0, tzinfo=dt.UTC)
    Enquiry.objects.filter(pk=customer.pk).update(relationship_ended_at=ended)
    customer.refresh_from_db()
    assert retention.deletion_at(customer) == dt.datetime(2028, 1, 15, 12, 0, tzinfo=dt.UTC)
    assert due(retention, dt.datetime(2028, 1, 14, 12, 0, tzinfo=dt.UTC)) == set()
    assert due(retention, dt.datetime(2028, 1, 16, 12, 0, tzinfo=dt.UTC)) == {customer.pk}


def test_p11_the_period_comes_from_the_declaration(published, default_source):
    from vern.audit.services import Actor
    from vern.declaration.services import declaration_publish

    shorter = default_source.replace(
        "      data_categories: [contact_details, enquiry_content]\n      period: 24 months\n      clock: last_contact",
        "      data_categories: [contact_details, enquiry_content]\n      period: 12 months\n      clock: last_contact",
        1,
    )
    assert shorter != default_source
    version = declaration_publish(source=shorter, actor=Actor.cli())
    retention = Retention.of(declaration_of(version))
    kept = enquiry(published)
    assert retention.deletion_at(kept) == dt.datetime(2026, 3, 31, 14, 0, tzinfo=dt.UTC)
    assert due(retention, dt.datetime(2026, 4, 1, 14, 0, tzinfo=dt.UTC)) == {kept.pk}


def test_p11_the_registry_tells_the_sweep_about_the_customer_exception(published):
    """A sweep that reads only the registry must not take customers by the 24-month rule."""
    from vern.registry.entries import entries

    entry = next(e for e in entries() if e.label == "enquiries.Enquiry")
    kept = enquiry(published)
    customer = enquiry(published, status="customer", became_customer_at=LAST_CONTACT)
    later = TWO_YEARS_LATER + DAY
    due_now = entry.due_query(declaration_of(published), later)
    assert due_now is not None
    assert set(Enquiry.objects.filter(due_now).values_list("pk", flat=True)) == {kept.pk}
    assert customer.pk not in Enquiry.objects.filter(due_now).values_list("pk", flat=True)


def test_p11_the_boundary_holds_to_the_minute_in_the_middle_of_a_month(published):
    retention = Retention.of(declaration_of(published))
    mid = dt.datetime(2025, 6, 15, 9, 30, tzinfo=dt.UTC)
    kept = enquiry(published, last_contact_at=mid)
    deletion = dt.datetime(2027, 6, 15, 9, 30, tzinfo=dt.UTC)
    assert retention.deletion_at(kept) == deletion
    assert due(retention, deletion - dt.timedelta(minutes=1)) == set()
    assert due(retention, deletion) == {kept.pk}
