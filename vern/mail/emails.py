"""Every email vern sends: one function per type, three templates each.

Templates live in ``mail/templates/mail/<kind>/``: ``subject.txt``,
``body.txt`` and ``body.html``, written in English with ``{% translate %}`` and
rendered in the recipient's language (Norwegian Bokmål or English). A function
here only picks the template and the context; ``mail_queue`` renders and
stores it, and the worker delivers it.
"""

from __future__ import annotations

from vern.mail.models import OutboxMessage
from vern.mail.services import mail_queue


def staff_invitation(*, to: str, language: str, name: str, link: str) -> OutboxMessage:
    """A new staff member is asked to set a password."""
    return mail_queue(kind="staff_invitation", to=to, language=language, context={"name": name, "link": link})


def staff_password_reset(*, to: str, language: str, name: str, link: str) -> OutboxMessage:
    """A staff member who forgot the password gets a link to set a new one."""
    return mail_queue(kind="staff_password_reset", to=to, language=language, context={"name": name, "link": link})
