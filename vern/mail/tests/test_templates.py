"""Every email type exists in Norwegian Bokmål and English (R10)."""

from __future__ import annotations

import inspect

import pytest

from vern.mail import emails
from vern.mail.services import mail_render

KINDS = sorted(
    name for name, func in inspect.getmembers(emails, inspect.isfunction) if func.__module__ == emails.__name__
)


def test_there_are_email_types_to_check():
    assert "staff_invitation" in KINDS and "staff_password_reset" in KINDS


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
    "enquiry_notification": {"kind": "demo", "link": "https://example.test/x/", "content": None},
}


@pytest.mark.parametrize("kind", KINDS)
def test_each_email_has_subject_text_and_html_in_both_languages(kind):
    context: dict[str, object] = CONTEXTS.get(kind, {"name": "Ola", "link": "https://example.test/x/"})
    norwegian = mail_render(kind=kind, language="nb", context=context)
    english = mail_render(kind=kind, language="en", context=context)
    for rendered in (norwegian, english):
        assert rendered.subject and "\n" not in rendered.subject
        assert "https://example.test/x/" in rendered.body_text
        assert 'href="https://example.test/x/"' in rendered.body_html
    assert norwegian.subject != english.subject
    assert norwegian.body_text != english.body_text
    assert '<html lang="nb">' in norwegian.body_html and '<html lang="en">' in english.body_html


def test_what_a_person_typed_arrives_as_typed_in_text_and_escaped_in_html():
    rendered = mail_render(
        kind="staff_invitation", language="en", context={"name": "O'Brien & <Co>", "link": "https://example.test/x/"}
    )
    assert "Hello O'Brien & <Co>," in rendered.body_text
    assert "O&#x27;Brien &amp; &lt;Co&gt;" in rendered.body_html and "<Co>" not in rendered.body_html
