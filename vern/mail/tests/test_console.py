"""Mail printed in development (``EMAIL_URL=console://``) holds no personal data: the log is no mailbox."""

from __future__ import annotations

import io
import re

import pytest
from django.core.mail import EmailMessage

from vern.mail import emails
from vern.mail.backends import ConsoleBackend, mask_link
from vern.mail.services import mail_outline, outbox_deliver_due

pytestmark = pytest.mark.django_db

TOKEN = "Zk3v9QpLw2XbT7mN4sRc8yHdJ6fGaE1u"


def _printed(settings, capsys) -> str:
    settings.EMAIL_BACKEND = "vern.mail.backends.ConsoleBackend"
    report = outbox_deliver_due()
    assert report.sent == 1
    return str(capsys.readouterr().out)


def test_a_confirmation_mail_is_printed_without_address_or_token_but_with_its_kind_and_language(settings, capsys):
    message = emails.rights_confirm(
        to="Kari.Nordmann@Example.no",
        language="en",
        link=f"http://127.0.0.1:8000/en/privacy/requests/confirm/{TOKEN}/",
        expires_hours=48,
    )
    printed = _printed(settings, capsys)
    assert f"Outbox #{message.pk}: rights_confirm, in en" in printed
    assert f"vern mail show {message.pk}" in printed
    assert "Subject: Confirm your privacy request" in printed
    assert "confirm the request with this link" in printed  # the text of the mail, in its language
    assert "http://127.0.0.1:8000/en/privacy/requests/confirm/…/" in printed  # which page, without the key
    assert "to k***@e***.no" in printed
    for personal in ("kari", "nordmann", "example.no", TOKEN, TOKEN[:12]):
        assert personal not in printed.lower().replace("k***@e***.no", "")
    assert not re.search(r"[\w.]+@[\w.]+\.\w+", printed.replace("k***@e***.no", ""))


def test_a_staff_invitation_is_printed_without_the_name(settings, capsys):
    emails.staff_invitation(
        to="ola@example.com", language="nb", name="Ola Nordmann", link=f"http://127.0.0.1:8000/staff/password/{TOKEN}/"
    )
    printed = _printed(settings, capsys)
    assert "staff_invitation, in nb" in printed
    assert "Hei …," in printed or "Hello …," in printed
    assert "Ola" not in printed and "Nordmann" not in printed and TOKEN not in printed
    assert "http://127.0.0.1:8000/staff/password/…/" in printed


def test_mail_not_from_the_outbox_shows_only_its_masked_recipient_and_links():
    out = io.StringIO()
    body = f"Hello Kari,\nset your password: https://example.test/set/{TOKEN}/?key={TOKEN}\nCall +47 912 34 567."
    sent = ConsoleBackend(stream=out).send_messages([EmailMessage("Hello Kari", body, to=["kari@example.no"])])
    printed = out.getvalue()
    assert sent == 1
    assert "to k***@e***.no" in printed and "https://example.test/set/…/?key=…" in printed
    for personal in ("Kari", TOKEN, "912 34 567"):
        assert personal not in printed


@pytest.mark.parametrize("language", ["nb", "en"])
def test_every_kind_of_mail_has_an_outline(language):
    from pathlib import Path

    folder = Path(emails.__file__).parent / "templates" / "mail"
    kinds = sorted(p.parent.name for p in folder.glob("*/subject.txt"))
    assert "rights_confirm" in kinds
    for kind in kinds:
        outline = mail_outline(kind=kind, language=language)
        assert outline.subject and outline.body_text.strip()


def test_a_link_keeps_its_page_and_loses_its_keys():
    assert mask_link("https://kaukus.no/privacy/requests/download/AbC123xyz987QwE/") == (
        "https://kaukus.no/privacy/requests/download/…/"
    )
    assert mask_link("https://kaukus.no/en/privacy/") == "https://kaukus.no/en/privacy/"
