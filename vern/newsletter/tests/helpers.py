"""What the newsletter tests share: subscribing as a visitor does, and reading the links mail carries."""

from __future__ import annotations

import re
from email.message import EmailMessage
from typing import Any

from vern.lib.keys import email_index
from vern.mail.models import OutboxMessage
from vern.newsletter import services
from vern.newsletter.models import Mailing, Subscription

LINK = re.compile(r"https?://\S+/newsletter/confirm/[A-Za-z0-9_-]{43}/")


def subscribe_on_page(client: Any, email: str, *, lang: str = "nb", name: str = "Kari Nordmann", **extra: Any) -> Any:
    """Fill in and send the newsletter page as a visitor does."""
    path = "/en/newsletter/" if lang == "en" else "/newsletter/"
    data = {"email": email, "name": name, "topics": ["news", "events"], "agree": "on"}
    return client.post(path, data, **extra)


def confirm_link(email: str, delivered: list[EmailMessage] | None = None) -> str:
    """The confirmation link in the newest confirmation mail to ``email``: from the SMTP server's
    ``delivered`` mail when given (the outbox forgets the link once the mail is sent), else from the outbox."""
    if delivered is not None:
        bodies = [m.get_body(("plain",)).get_content() for m in delivered if m["To"] == email]
        links = [found.group(0) for body in bodies if (found := LINK.search(body))]
        assert links, "no confirmation mail arrived"
        return links[-1]
    message = (
        OutboxMessage.objects.filter(kind="subscription_confirm", to_index=email_index(email)).order_by("-pk").first()
    )
    assert message is not None, "no confirmation mail was written"
    found = LINK.search(message.body_text)
    assert found is not None, "the confirmation mail was sent, and the outbox keeps no copy of its link"
    return found.group(0)


def path_of(link: str) -> str:
    return "/" + link.split("/", 3)[3]


def confirmed(email: str, *, language: str = "nb", topics: list[str] | None = None) -> Subscription:
    """A subscriber who asked and used the link (through the services, as the pages call them)."""
    services.subscribe(
        email=email, name="", language=language, form="newsletter", ip_shortened="203.0.113.0", topics=topics
    )
    token = confirm_link(email).rstrip("/").rsplit("/", 1)[1]
    return services.confirm(token, ip_shortened="203.0.113.0")


def mailing(staff: Any, *, topic: str = "news", body_nb: str = "Hei!", body_en: str = "Hello!") -> Mailing:
    return services.mailing_create(
        staff=staff, topic=topic, subject_nb="Nytt fra oss", subject_en="News from us", body_nb=body_nb, body_en=body_en
    )


def send_all(staff: Any, *, topic: str = "news", body_nb: str = "Hei!", body_en: str = "Hello!") -> Mailing:
    """Write a mailing, start it, and run every batch (what the worker's jobs do)."""
    made = services.mailing_start(mailing(staff, topic=topic, body_nb=body_nb, body_en=body_en), staff=staff)
    for _ in range(100):
        made.refresh_from_db()
        if made.status != Mailing.Status.SENDING:
            break
        services.mailing_send_batch(made.pk)
    return made


def newsletters_to(messages: list[EmailMessage], address: str) -> list[EmailMessage]:
    return [m for m in messages if m["To"] == address and m["List-Unsubscribe"]]
