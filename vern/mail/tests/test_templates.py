"""Every email type exists in Norwegian Bokmål and English (R10)."""

from __future__ import annotations

import datetime as dt
import inspect

import pytest

from vern.mail import emails
from vern.mail.services import mail_render

KINDS = sorted(
    name for name, func in inspect.getmembers(emails, inspect.isfunction) if func.__module__ == emails.__name__
)


def test_there_are_email_types_to_check():
    assert "staff_invitation" in KINDS and "staff_password_reset" in KINDS


AUTHORITY = {
    "name": "Datatilsynet",
    "address": "Postboks 458 Sentrum, 0105 Oslo",
    "email": "postkasse@datatilsynet.no",
    "website": "https://example.test/x/",
    "complaint_text": "You may complain to Datatilsynet.",
}

CONTEXTS: dict[str, dict[str, object]] = {
    "enquiry_received": {
        "kind": "contact",
        "name": "Ola",
        "basis": "f",
        "controller": "Kaukus AS",
        "contact_email": "support@kaukus.no",
        "retention": "up to 24 months",
        "policy_link": "https://example.test/x/",
        "rights_link": "https://example.test/x/#rights",
    },
    "staff_recovery_code_used": {"name": "Alice", "left": 9, "link": "https://example.test/x/"},
    "analytics_report": {
        "name": "Kari",
        "start": "1. desember 2026",
        "end": "7. desember 2026",
        "alerts": ["Visitors moved sharply."],
        "rows": ["Visitors: 1 200 (+60 %)"],
        "pages": ["/pricing/: 300"],
        "goals": ["Demo booked: 4 (0,3 %)"],
        "link": "https://example.test/x/",
    },
    "staff_breach_alert": {
        "reference": "B-0001",
        "title": "Lost laptop",
        "stage": "48h",
        "hours_left": 24,
        "deadline": "9 December 2026 10:00",
        "link": "https://example.test/x/",
    },
    "staff_review_due": {"what": "risk", "reference": "R-0001", "link": "https://example.test/x/"},
    "breach_notice": {
        "reference": "B-0001",
        "controller": "Kaukus AS",
        "contact": "personvern@kaukus.no",
        "what": "A laptop was stolen.",
        "consequences": "Your name may be known.",
        "measures": "We wiped it remotely.",
        "advice": "Watch for phishing.",
        "link": "https://example.test/x/",
    },
    "staff_scan_findings": {"site": "https://www.example.test/", "count": 2, "link": "https://example.test/x/"},
    "connector_task": {
        "processor": "Regnskap AS",
        "reference": "R-12",
        "identifiers": ["kari@example.no", "+4791234567"],
        "due_on": "2026-12-14",
        "link": "https://example.test/x/",
    },
    "connector_rectification_task": {
        "processor": "Regnskap AS",
        "reference": "R-12",
        "identifiers": ["kari@example.no"],
        "correction": "The surname is Nordmann, not Nordman.",
        "due_on": "2026-12-14",
        "link": "https://example.test/x/",
    },
    "processor_changes_confirm": {"link": "https://example.test/x/"},
    "processor_changes_notice": {
        "added": True,
        "name": "Storage Oy",
        "processor": "Hetzner Online GmbH",
        "countries": "FI",
        "announced": dt.date(2026, 12, 7),
        "deadline": dt.date(2027, 1, 6),
        "page": "https://example.test/x/",
        "unsubscribe_link": "https://example.test/u/",
    },
    "staff_processor_reviews": {"processors": ["Hetzner Online GmbH"], "count": 1, "link": "https://example.test/x/"},
    "policy_changed": {"date": "6 December 2026", "note": "Shorter answer time.", "link": "https://example.test/x/"},
    "staff_passkey_added": {"name": "Alice", "passkey": "Work laptop", "link": "https://example.test/x/"},
    "staff_second_factor_reset": {"name": "Alice", "by": "Bob Admin", "link": "https://example.test/x/"},
    "enquiry_notification": {"kind": "demo", "link": "https://example.test/x/", "reason": "new"},
    "enquiry_reply": {
        "subject": "Om prisen",
        "body": "Prisen er 1 200 kr i måneden.",
        "staff_name": "Sam Salg",
        "controller": "Kaukus AS",
        "contact_email": "post@kaukus.no",
        "received_at": dt.datetime(2026, 12, 1, 10, 0, tzinfo=dt.UTC),
        "policy_link": "https://example.test/x/privacy/",
    },
    "staff_role_grant": {
        "name": "Alice",
        "outcome": "requested",
        "person": "Sam Salg",
        "role": "Personvernombud",
        "requested_by": "Alice Admin",
        "decided_by": "",
        "link": "https://example.test/x/",
    },
    "rights_confirm": {"link": "https://example.test/x/", "expires_hours": 72},
    "rights_download_ready": {"link": "https://example.test/x/", "expires_hours": 168, "package": "access"},
    "rights_extended": {
        "reference": "R-7",
        "due_on": "2. mars 2027",
        "extended_to": "2. mai 2027",
        "reason": "Many requests at once.",
        "authority": AUTHORITY,
    },
    "rights_answered": {
        "reference": "R-7",
        "outcomes": ["Access: done."],
        "message": "We found one enquiry.",
        "authority": AUTHORITY,
    },
    "rights_refused": {
        "reference": "R-7",
        "ground": "Manifestly unfounded",
        "justification": "The same request came ten times this week.",
        "authority": AUTHORITY,
    },
    # Its link leads to the privacy center, on the site the mail comes from.
    "rights_restriction_ending": {"reference": "R-7", "lift_on": "2. mars 2027", "site_url": "https://example.test/x"},
    "rights_reminder": {"reference": "R-7", "days_left": 7, "link": "https://example.test/x/"},
    # A mailing's subject and text are written by staff, one per language (vern/newsletter).
    "newsletter": {
        "subject": "News",
        "body": "Hello",
        "unsubscribe_link": "https://example.test/x/u/",
        "preferences_link": "https://example.test/x/p/",
    },
    "subscription_confirm": {"link": "https://example.test/x/", "expires": "7 dager"},
    "rights_message": {
        "reference": "R-7",
        "message": "We need one more day to finish.",
        "status_link": "https://example.test/x/status/",
    },
}


@pytest.mark.parametrize("kind", KINDS)
def test_each_email_has_subject_text_and_html_in_both_languages(kind):
    context: dict[str, object] = CONTEXTS.get(kind, {"name": "Ola", "link": "https://example.test/x/"})
    norwegian = mail_render(kind=kind, language="nb", context=context)
    english = mail_render(kind=kind, language="en", context=context)
    for rendered in (norwegian, english):
        assert rendered.subject and "\n" not in rendered.subject
        assert "https://example.test/x/" in rendered.body_text
        assert 'href="https://example.test/x/' in rendered.body_html
    # A reply's and a mailing's subject is the one staff wrote, given per language.
    if kind not in ("enquiry_reply", "newsletter"):
        assert norwegian.subject != english.subject
    assert norwegian.body_text != english.body_text
    assert '<html lang="nb">' in norwegian.body_html and '<html lang="en">' in english.body_html


def test_what_a_person_typed_arrives_as_typed_in_text_and_escaped_in_html():
    rendered = mail_render(
        kind="staff_invitation", language="en", context={"name": "O'Brien & <Co>", "link": "https://example.test/x/"}
    )
    assert "Hello O'Brien & <Co>," in rendered.body_text
    assert "O&#x27;Brien &amp; &lt;Co&gt;" in rendered.body_html and "<Co>" not in rendered.body_html


@pytest.mark.parametrize(
    "kind", ["rights_confirm", "rights_download_ready", "rights_extended", "rights_answered", "rights_refused"]
)
def test_mail_about_a_request_carries_the_status_link_when_there_is_one(kind):
    context = {**CONTEXTS[kind], "status_link": "https://example.test/status/abc/"}
    for language, words in (("nb", "Følg forespørselen din"), ("en", "Follow your request")):
        rendered = mail_render(kind=kind, language=language, context=context)
        assert "https://example.test/status/abc/" in rendered.body_text
        assert 'href="https://example.test/status/abc/"' in rendered.body_html and words in rendered.body_html
    without = mail_render(kind=kind, language="en", context=CONTEXTS[kind])
    assert "Follow your request" not in without.body_html
