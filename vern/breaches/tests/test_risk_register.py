"""The risk register: entries with an owner and a review date, reminders when due, the yearly review
of the whole register, and the DPIA screening of each purpose."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from vern.accounts.testing import staff_login
from vern.audit.models import Entry
from vern.breaches import services
from vern.breaches.models import RegisterReview, Risk, Screening
from vern.mail.models import OutboxMessage
from vern.registry import surface

pytestmark = pytest.mark.django_db


def _risk(personas, next_review: dt.date) -> Risk:
    return services.risk_add(
        staff=personas.privacy_officer,
        data={
            "asset": "",
            "purpose": "enquiries",
            "threat": "Phishing gives an outsider the inbox",
            "likelihood": 3,
            "impact": 4,
            "measures": "Passkeys for staff",
            "owner": personas.privacy_officer,
            "residual_likelihood": 1,
            "residual_impact": 4,
            "next_review": next_review,
        },
        today=next_review,
    )


def test_a_new_risk_with_a_review_date_in_the_past_is_refused_on_its_field(client, personas, published):
    staff_login(client, personas.privacy_officer)
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    form = {
        "asset": "Laptops",
        "threat": "Theft",
        "likelihood": "2",
        "impact": "3",
        "residual_likelihood": "1",
        "residual_impact": "3",
        "owner": str(personas.privacy_officer.pk),
        "next_review": yesterday.isoformat(),
    }
    response = client.post("/staff/risks/new/", form)
    assert response.status_code == 400
    assert response.context["form"]["next_review"].errors == [
        "Første gjennomgang av en ny risiko kan ikke ligge i fortiden."
    ]
    assert Risk.objects.count() == 0
    form["next_review"] = (timezone.localdate() + dt.timedelta(days=90)).isoformat()
    assert client.post("/staff/risks/new/", form).status_code == 303
    [risk] = Risk.objects.all()
    assert risk.score == 6 and risk.residual_score == 3
    page = client.get(f"/staff/risks/{risk.pk}/").content.decode()
    assert "Laptops" in page and "Theft" in page
    assert Entry.objects.filter(action="risk.add", object_id=str(risk.pk)).exists()


def test_the_owner_is_reminded_once_when_a_review_is_due(personas, published):
    due = dt.date(2027, 3, 1)
    risk = _risk(personas, due)
    before = dt.datetime(2027, 2, 28, 11, 0, tzinfo=dt.UTC)
    on_the_day = dt.datetime(2027, 3, 1, 7, 0, tzinfo=dt.UTC)
    assert services.risk_reminders_send(now=before) == 0
    assert services.risk_reminders_send(now=on_the_day) == 1
    assert services.risk_reminders_send(now=on_the_day + dt.timedelta(hours=1)) == 0
    [mail] = OutboxMessage.objects.filter(kind="staff_review_due")
    assert mail.to_address == "pia@example.com" and f"R-{risk.pk:04d}" in mail.subject


def test_the_yearly_review_of_the_whole_register_is_recorded_and_reminded_a_year_on(client, personas, published):
    assert surface.last_risk_review() is None
    staff_login(client, personas.privacy_officer)
    assert client.post("/staff/risks/review/", {"note": ""}).status_code == 400
    assert client.post("/staff/risks/review/", {"note": "Alle risikoer sjekket."}).status_code == 303
    review = RegisterReview.objects.get()
    assert review.reviewed_by == personas.privacy_officer
    assert surface.last_risk_review() == timezone.localdate()
    assert services.risk_reminders_send(now=review.reviewed_at + dt.timedelta(days=364)) == 0
    assert services.risk_reminders_send(now=review.reviewed_at + dt.timedelta(days=366)) == 1
    assert services.risk_reminders_send(now=review.reviewed_at + dt.timedelta(days=367)) == 0
    [mail] = OutboxMessage.objects.filter(kind="staff_review_due")
    assert "årlige gjennomgangen" in mail.subject


def test_a_purpose_is_screened_for_a_dpia_with_its_outcome_and_reasons(client, personas, published):
    staff_login(client, personas.privacy_officer)
    one = {"prefix": "analytics", "analytics-purpose": "analytics", "analytics-criteria": ["large_scale"]}
    response = client.post("/staff/risks/dpia/screen/", {**one, "analytics-reasons": ""})
    assert response.status_code == 400 and Screening.objects.count() == 0
    client.post("/staff/risks/dpia/screen/", {**one, "analytics-reasons": "Bare daglige summer."})
    two = {
        "prefix": "enquiries",
        "enquiries-purpose": "enquiries",
        "enquiries-criteria": ["large_scale", "combining"],
        "enquiries-reasons": "Mange henvendelser koblet med CRM.",
    }
    client.post("/staff/risks/dpia/screen/", two)
    outcomes = dict(Screening.objects.values_list("purpose", "outcome"))
    assert outcomes == {"analytics": "not_required", "enquiries": "required"}
    page = client.get("/staff/risks/dpia/").content.decode()
    assert "Konsekvensvurdering påkrevd" in page and "Mange henvendelser koblet med CRM." in page
    assert client.post("/staff/risks/dpia/screen/", {**two, "enquiries-purpose": "nope"}).status_code == 400


def test_the_risk_register_exports_as_csv_and_json_and_is_in_the_record(client, personas, published):
    from vern.declaration import ropa
    from vern.declaration.selectors import published_declaration

    risk = _risk(personas, timezone.localdate() + dt.timedelta(days=30))
    staff_login(client, personas.admin)
    csv_text = client.get("/staff/risks/export.csv").content.decode()
    assert csv_text.splitlines()[0].startswith("Referanse,Verdi eller behandling,Trussel")
    assert "Phishing gives an outsider the inbox" in csv_text
    data = client.get("/staff/risks/export.json").json()
    assert data["risks"][0]["reference"] == f"R-{risk.pk:04d}" and data["risks"][0]["residual"].endswith("= 4")
    declaration = published_declaration()
    assert declaration is not None
    [section] = [r for r in ropa.build(declaration, "nb")["registers"] if r["key"] == "risks"]
    assert section["rows"][0]["Referanse"] == f"R-{risk.pk:04d}"
    assert client.post("/staff/risks/new/", {}).status_code == 403  # administrators read only
