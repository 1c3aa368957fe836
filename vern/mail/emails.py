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


def enquiry_received(
    *,
    to: str,
    language: str,
    kind: str,
    name: str,
    basis: str,
    controller: str,
    contact_email: str,
    retention: str,
    policy_link: str,
    rights_link: str,
) -> OutboxMessage:
    """The acknowledgement of an enquiry or demo booking, with the privacy notice.

    It does not repeat the message: the address was typed by whoever sent the form.
    Where the enquiry rests on legitimate interest (f), the right to object is stated
    on its own (Art. 21(4), LAW.md R19).
    """
    return mail_queue(
        kind="enquiry_received",
        to=to,
        language=language,
        context={
            "kind": kind,
            "name": name,
            "basis": basis,
            "controller": controller,
            "contact_email": contact_email,
            "retention": retention,
            "policy_link": policy_link,
            "rights_link": rights_link,
        },
    )


def enquiry_notification(
    *, to: str, language: str, kind: str, link: str, content: dict[str, str] | None, about: str = ""
) -> OutboxMessage:
    """Sales hears of a new enquiry; the content is copied only if the declaration allows it.

    ``about`` (the enquirer's address) lets their access and erasure requests find this mail.
    """
    return mail_queue(
        kind="enquiry_notification",
        to=to,
        language=language,
        context={"kind": kind, "link": link, "content": content},
        about=about,
    )
