"""Mail in development (``EMAIL_URL=console://``): shown in the worker's output, not sent.

The output is a log, and a log may hold no personal data. So what is printed is not
the mail itself but its outline: its number in the outbox, its kind and language, the
recipient masked (``k…@e…``), the subject and text of its templates with every value
filled in masked (``…``: names, addresses, links, dates), and the links it holds with
their single-use tokens masked (``/staff/password/…/``). Whoever needs the mail itself
(the link to set a first password, say) reads it with ``vern mail show ID``, which
needs a shell on the server and is audited (README, docs/operations.md).
"""

from __future__ import annotations

import re
import sys
import threading
from collections.abc import Sequence
from typing import Any

from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend

from vern.lib.logs import redact
from vern.lib.normalise import mask_email
from vern.mail.models import OutboxMessage
from vern.mail.services import Rendered, mail_outline

_lock = threading.Lock()
MASK = "…"
_URL = re.compile(r"https?://[^\s<>\"')]+")
# A part of a URL that looks made to be unguessable: long, with letters and digits mixed.
_TOKEN = re.compile(r"(?=[A-Za-z0-9_\-:.=%]*\d)(?=[A-Za-z0-9_\-:.=%]*[A-Za-z])[A-Za-z0-9_\-:.=%]{12,}")


def mask_link(url: str) -> str:
    """``url`` with every single-use token (a long mixed part of its path or query) replaced by ``…``.

    The host is the site's own and stays; the rest is redacted as a log line is."""
    base, _, query = url.partition("?")
    parts = base.split("/")
    site, path = "/".join(parts[:3]), "/".join(_TOKEN.sub(MASK, part) for part in parts[3:])
    masked = f"{site}/{redact(path)}" if len(parts) > 3 else site
    if query:
        masked += "?" + "&".join(f"{redact(pair.partition('=')[0])}={MASK}" for pair in query.split("&"))
    return masked


def links_in(text: str) -> list[str]:
    return list(dict.fromkeys(mask_link(url.rstrip(".,;")) for url in _URL.findall(text)))


class ConsoleBackend(BaseEmailBackend):
    def __init__(self, *args: Any, stream: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.stream = stream or sys.stdout

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        with _lock:
            for message in email_messages:
                self.stream.write(self._outline(message))
            self.stream.flush()
        return len(email_messages)

    def _outline(self, message: EmailMessage) -> str:
        to = ", ".join(mask_email(address.lower()) for address in message.to)
        stored = OutboxMessage.objects.filter(message_id=message.extra_headers.get("Message-ID", "")).first()
        links = links_in(str(message.body))
        lines = [f"--- mail (not sent: EMAIL_URL=console://) to {to}"]
        if stored is None:
            # Not from the outbox (none of vern's own mail): nothing of its text is shown.
            lines.append("(not from the outbox: its text is not shown)")
        else:
            try:
                outline = mail_outline(kind=stored.kind, language=stored.language)
            except Exception:  # an outline that cannot be made must not stop the mail's delivery
                outline = Rendered(
                    subject="(not shown)", body_text="(the outline of this mail could not be made)", body_html=""
                )
            lines += [
                f"Outbox #{stored.pk}: {stored.kind}, in {stored.language}. "
                f"The mail itself: vern mail show {stored.pk}",
                f"Subject: {outline.subject}",
                "",
                outline.body_text.rstrip(),
            ]
        if links:
            lines += ["", "Links (tokens masked):", *links]
        return "\n".join(lines) + "\n---\n"
