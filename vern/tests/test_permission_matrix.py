"""Every staff URL, walked with every persona (P18, P24).

The matrix below is written out by hand on purpose: granting a role a new
page must be a visible change to this table, not a side effect. A staff URL
missing from the table fails the suite.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from vern.accounts.models import PendingRoleGrant, User
from vern.accounts.testing import staff_login, staff_routes
from vern.breaches.models import Breach, Risk
from vern.enquiries.models import Enquiry, MailboxAttachment, MailboxMessage
from vern.jobs.models import Job
from vern.mail.models import OutboxMessage
from vern.newsletter.models import Mailing
from vern.processors.models import Processor
from vern.retention.models import Hold
from vern.rights.models import Request
from vern.scanner.models import ScanRun, ScanShot

EVERYONE = {"admin", "privacy_officer", "sales"}

MATRIX: dict[str, set[str] | str] = {
    "accounts:home": EVERYONE,
    "accounts:logout": EVERYONE,
    "accounts:password_change": EVERYONE,
    "accounts:language": EVERYONE,
    "accounts:enrol": EVERYONE,
    "accounts:verify": EVERYONE,
    "accounts:reauth": EVERYONE,
    "accounts:security": EVERYONE,
    "accounts:session_end": EVERYONE,
    "accounts:recovery_codes": EVERYONE,
    "accounts:passkey_register_options": EVERYONE,
    "accounts:passkey_register": EVERYONE,
    "accounts:passkey_remove": EVERYONE,
    "accounts:passkey_sign_in_options": EVERYONE,
    "accounts:passkey_sign_in": EVERYONE,
    "accounts:passkey_reauth_options": EVERYONE,
    "accounts:passkey_reauth": EVERYONE,
    "accounts:person_second_factor_reset": {"admin"},
    "accounts:login": "public",
    "accounts:password_forgot": "public",
    "accounts:password_set": "public",
    "accounts:people": {"admin"},
    "accounts:person_new": {"admin"},
    "accounts:person": {"admin"},
    "accounts:person_roles": {"admin"},
    "accounts:grant_decide": {"admin"},
    "accounts:person_active": {"admin"},
    "accounts:person_send_link": {"admin"},
    "ops:jobs": {"admin"},
    "ops:job_retry": {"admin"},
    "ops:outbox": {"admin"},
    "ops:outbox_requeue": {"admin"},
    "ops:audit": {"admin", "privacy_officer"},
    "ops:audit_verify": {"admin", "privacy_officer"},
    "declaration_staff:overview": {"privacy_officer"},
    "declaration_staff:publish": {"privacy_officer"},
    "declaration_staff:draft_start": {"privacy_officer"},
    "declaration_staff:draft_discard": {"privacy_officer"},
    "declaration_staff:edit": {"privacy_officer"},
    "declaration_staff:record": {"privacy_officer"},
    "consent_staff:search": {"privacy_officer"},
    "consent_staff:verify": {"privacy_officer"},
    "connectors_staff:overview": {"privacy_officer"},
    "connectors_staff:check": {"privacy_officer"},
    "scanner_staff:overview": {"privacy_officer"},
    "scanner_staff:now": {"privacy_officer"},
    "scanner_staff:run": {"privacy_officer"},
    "scanner_staff:shot": {"privacy_officer"},
    "enquiries_staff:inbox": {"sales", "privacy_officer"},
    "enquiries_staff:register": {"sales", "privacy_officer"},
    "enquiries_staff:detail": {"sales", "privacy_officer"},
    "enquiries_staff:log_contact": {"sales", "privacy_officer"},
    "enquiries_staff:reply": {"sales", "privacy_officer"},
    "enquiries_staff:set_state": {"sales", "privacy_officer"},
    "enquiries_staff:assign": {"sales", "privacy_officer"},
    "enquiries_staff:mark_customer": {"sales", "privacy_officer"},
    "enquiries_staff:end_relationship": {"sales", "privacy_officer"},
    "enquiries_staff:delete": {"sales", "privacy_officer"},
    # Registering an enquiry as a rights request needs both: reading enquiries and handling requests.
    "enquiries_staff:to_rights_request": {"privacy_officer"},
    "enquiries_staff:attachment": {"sales", "privacy_officer"},
    "retention_staff:overview": {"privacy_officer"},
    "retention_staff:sweep": {"privacy_officer"},
    "retention_staff:hold_new": {"privacy_officer"},
    "retention_staff:hold_end": {"privacy_officer"},
    "analytics_staff:dashboard": {"sales", "privacy_officer"},
    "analytics_staff:export": {"sales", "privacy_officer"},
    "analytics_staff:settings": {"sales", "privacy_officer"},
    "rights_staff:queue": {"privacy_officer"},
    "rights_staff:register": {"privacy_officer"},
    "rights_staff:detail": {"privacy_officer"},
    "rights_staff:start": {"privacy_officer"},
    "rights_staff:assign": {"privacy_officer"},
    "rights_staff:note": {"privacy_officer"},
    "rights_staff:message": {"privacy_officer"},
    "rights_staff:verify_phone": {"privacy_officer"},
    "rights_staff:extend": {"privacy_officer"},
    "rights_staff:answer": {"privacy_officer"},
    "rights_staff:refuse": {"privacy_officer"},
    "rights_staff:erasure": {"privacy_officer"},
    "rights_staff:rectify": {"privacy_officer"},
    "rights_staff:objection": {"privacy_officer"},
    "rights_staff:restriction": {"privacy_officer"},
    "rights_staff:package": {"privacy_officer"},
    "breaches_staff:list": {"admin", "privacy_officer"},
    "breaches_staff:export_csv": {"admin", "privacy_officer"},
    "breaches_staff:export_json": {"admin", "privacy_officer"},
    "breaches_staff:detail": {"admin", "privacy_officer"},
    "breaches_staff:form_csv": {"admin", "privacy_officer"},
    "breaches_staff:form_json": {"admin", "privacy_officer"},
    "breaches_staff:new": {"privacy_officer"},
    "breaches_staff:edit": {"privacy_officer"},
    "breaches_staff:decide": {"privacy_officer"},
    "breaches_staff:report": {"privacy_officer"},
    "breaches_staff:notice": {"privacy_officer"},
    "breaches_staff:close": {"privacy_officer"},
    "risks_staff:list": {"admin", "privacy_officer"},
    "risks_staff:dpia": {"admin", "privacy_officer"},
    "risks_staff:export_csv": {"admin", "privacy_officer"},
    "risks_staff:export_json": {"admin", "privacy_officer"},
    "risks_staff:detail": {"admin", "privacy_officer"},
    "risks_staff:new": {"privacy_officer"},
    "risks_staff:edit": {"privacy_officer"},
    "risks_staff:review": {"privacy_officer"},
    "risks_staff:screen": {"privacy_officer"},
    "newsletter_staff:mailings": {"admin"},
    "newsletter_staff:mailing": {"admin"},
    "newsletter_staff:mailing_test": {"admin"},
    "newsletter_staff:mailing_send": {"admin"},
    # Privacy officers keep the processor register; administrators read it (and export it).
    "processors_staff:register": {"admin", "privacy_officer"},
    "processors_staff:processor": {"admin", "privacy_officer"},
    "processors_staff:agreement": {"admin", "privacy_officer"},
    "processors_staff:export_csv": {"admin", "privacy_officer"},
    "processors_staff:export_json": {"admin", "privacy_officer"},
    "processors_staff:seed": {"privacy_officer"},
    "processors_staff:new": {"privacy_officer"},
    "processors_staff:edit": {"privacy_officer"},
    "processors_staff:review": {"privacy_officer"},
    "processors_staff:change": {"privacy_officer"},
}


STAFF_URLS = staff_routes()


def test_every_staff_url_is_in_the_matrix_and_every_matrix_row_exists():
    assert set(STAFF_URLS) == set(MATRIX)


@pytest.mark.parametrize("name", sorted(STAFF_URLS))
def test_every_staff_view_declares_who_may_use_it(name):
    _, view = STAFF_URLS[name]
    if MATRIX[name] == "public":
        assert getattr(view, "vern_staff_public", False), f"{name} is public in the matrix but not marked so"
    else:
        assert getattr(view, "vern_capability", None) is not None, f"{name} has no staff_view(...) check"


@pytest.fixture
def targets(personas, published) -> dict[str, Any]:
    target = User.objects.create_user(email="target@example.com", password=None, name="Target")
    target.role_grants.create(role="sales")
    grant = PendingRoleGrant.objects.create(user=target, role="privacy_officer", requested_by=personas.admin)
    job = Job.objects.create(name="tests.explode", status=Job.Status.FAILED, attempts=2)
    message = OutboxMessage.objects.create(
        kind="staff_invitation",
        to_address="target@example.com",
        to_index="x",
        language="nb",
        subject="s",
        body_text="b",
        message_id="<m@x>",
        status=OutboxMessage.Status.FAILED,
    )
    enquiry = Enquiry.objects.create(
        kind="contact",
        channel="email",
        name="Kari",
        email="kari@example.no",
        email_index="kari-index",
        organisation="Bergen kommune",
        legal_basis="f",
        policy_version=published.number,
    )
    mail = MailboxMessage.objects.create(enquiry=enquiry, key="matrix-mail", message_id="<mail@x>")
    attachment = MailboxAttachment.objects.create(
        enquiry=enquiry, message=mail, filename="a.pdf", content_type="application/pdf", size=4, content="JVBERg=="
    )
    hold = Hold.objects.create(subject_key="kari-index", reason="Claim", ends_at=timezone.now() + dt.timedelta(days=30))
    request = Request.objects.create(
        rights=["access", "erasure", "restriction"],
        channel="email",
        status=Request.Status.CONFIRMED,
        email="kari@example.no",
        email_index="kari-index",
        due_on=timezone.localdate() + dt.timedelta(days=30),
    )
    scan = ScanRun.objects.create(url="http://testserver/", trigger="schedule", status="clean")
    ScanShot.objects.create(run=scan, pass_name="none", image=b"\xff\xd8\xff\xd9")
    mailing = Mailing.objects.create(topic="news", subject_nb="s", subject_en="s", body_nb="b", body_en="b")
    breach = Breach.objects.create(title="Lost laptop", aware_at=timezone.now(), nature=["confidentiality"])
    risk = Risk.objects.create(
        asset="Laptops",
        threat="Theft",
        likelihood=2,
        impact=3,
        owner=personas.privacy_officer,
        residual_likelihood=1,
        residual_impact=3,
        next_review=timezone.localdate(),
    )
    processor = Processor.objects.create(
        key="hetzner",
        name="Hetzner Online GmbH",
        service_nb="Drift",
        service_en="Hosting",
        countries=["DE"],
        next_review=timezone.localdate() + dt.timedelta(days=30),
        agreement_file=b"%PDF-1.4",
        agreement_filename="dpa.pdf",
    )
    return {
        "breach": breach.pk,
        "risk": risk.pk,
        "processor": processor.pk,
        "scan": scan.pk,
        "mailing": mailing.pk,
        "person": target.pk,
        "grant": grant.pk,
        "job": job.pk,
        "message": message.pk,
        "enquiry": enquiry.pk,
        "attachment": attachment.pk,
        "hold": hold.pk,
        "request": request.pk,
    }


def _path_for(name: str, route: str, targets: dict[str, Any]) -> str:
    pk = {
        "ops:job_retry": targets["job"],
        "ops:outbox_requeue": targets["message"],
        "accounts:grant_decide": targets["grant"],
    }.get(name, targets["person"])
    if name.startswith("enquiries_staff:"):
        pk = targets["enquiry"]
    if name.startswith("retention_staff:"):
        pk = targets["hold"]
    if name.startswith("rights_staff:"):
        pk = targets["request"]
    if name.startswith("scanner_staff:"):
        pk = targets["scan"]
    if name.startswith("newsletter_staff:"):
        pk = targets["mailing"]
    if name.startswith("breaches_staff:"):
        pk = targets["breach"]
    if name.startswith("risks_staff:"):
        pk = targets["risk"]
    if name.startswith("processors_staff:"):
        pk = targets["processor"]
    route = route.replace("<str:pass_name>", "none").replace("<int:attachment_pk>", str(targets["attachment"]))
    return "/" + route.replace("<int:pk>", str(pk)).replace("<str:kind>", "access").replace("<slug:part>", "texts")


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(n for n, allowed in MATRIX.items() if allowed != "public"))
def test_p24_each_persona_gets_exactly_the_access_the_matrix_gives(name, client, personas, targets):
    route, _ = STAFF_URLS[name]
    path = _path_for(name, route, targets)
    allowed = MATRIX[name]

    client.logout()
    for method in (client.get, client.post):
        response = method(path)
        assert response.status_code == 302, f"outsider {method.__name__} {path}"
        assert response["Location"].startswith("/staff/login/?next=")

    client.force_login(personas.deactivated)
    assert client.get(path).status_code == 302, f"deactivated staff reached {path}"

    for role in ("sales", "privacy_officer", "admin"):
        user = getattr(personas, role)
        staff_login(client, user)
        response = client.get(path)
        if role not in allowed:
            assert response.status_code == 403, f"{role} GET {path}"
            assert client.post(path).status_code == 403, f"{role} POST {path}"
            continue
        if response.status_code == 405:
            response = client.post(path)
        # 400 is a staff member who may use the page but sent an empty form.
        assert response.status_code in (200, 302, 303, 400), f"{role} {path}: {response.status_code}"
        if name != "accounts:logout":  # logging out rightly ends on the login page
            assert "/staff/login/" not in response.get("Location", ""), f"{role} was sent to log in"
        client.logout()


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(n for n, allowed in MATRIX.items() if allowed == "public"))
def test_public_staff_pages_open_without_login(name, client, targets):
    route, _ = STAFF_URLS[name]
    path = "/" + route.replace("<uidb64>", "MQ").replace("<token>", "bad-token")
    response = client.get(path)
    # The login and forgotten-password pages show a form; a bad set-password link says it does not work.
    assert response.status_code == (404 if name == "accounts:password_set" else 200)
    assert "/staff/login/" not in response.get("Location", "")


# The steps of signing in itself: the only staff pages a session answers before the second factor.
SIGN_IN_STEPS = {
    "accounts:enrol",
    "accounts:verify",
    "accounts:passkey_sign_in_options",
    "accounts:passkey_sign_in",
    "accounts:logout",
}


def test_only_the_steps_of_signing_in_answer_before_the_second_factor():
    exempt = {name for name, (_, view) in STAFF_URLS.items() if getattr(view, "vern_second_factor", True) is False}
    assert exempt == SIGN_IN_STEPS


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(n for n, allowed in MATRIX.items() if allowed != "public"))
def test_p18_a_session_with_the_password_only_gets_no_staff_page_or_api(name, client, personas, targets):
    """The persona "password only, no second factor": every role, with and without an enrolled device."""
    from vern.accounts.testing import staff_device

    route, _ = STAFF_URLS[name]
    path = _path_for(name, route, targets)
    staff_device(personas.privacy_officer)  # enrolled: sent to type a code; the others: sent to set one up
    for role in ("sales", "privacy_officer", "admin"):
        user = getattr(personas, role)
        client.force_login(user)  # the password step only
        for method in (client.get, client.post):
            response = method(path)
            if name in SIGN_IN_STEPS:
                assert response.status_code in (200, 302, 303, 400, 405), f"{role} {method.__name__} {path}"
                if name != "accounts:logout":  # logging out rightly ends on the login page
                    assert "/staff/login/" not in response.get("Location", "")
                continue
            assert response.status_code == 303, f"{role} {method.__name__} {path}: {response.status_code}"
            step = "/staff/second-factor/" if role == "privacy_officer" else "/staff/second-factor/setup/"
            assert response["Location"].startswith(step + "?next="), response["Location"]
        if name not in SIGN_IN_STEPS:
            api = client.get(path, HTTP_ACCEPT="application/json")
            assert api.status_code == 403 and api.json()["error"] == "second_factor_required"
        client.logout()


@pytest.mark.django_db
def test_staff_pages_are_never_cached(client, personas):
    staff_login(client, personas.admin)
    response = client.get("/staff/people/")
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]
