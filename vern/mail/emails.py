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


def staff_recovery_code_used(*, to: str, language: str, name: str, left: int, link: str) -> OutboxMessage:
    """A staff member's recovery code was used to sign in: if it was not them, they must act."""
    return mail_queue(
        kind="staff_recovery_code_used",
        to=to,
        language=language,
        context={"name": name, "left": left, "link": link},
    )


def staff_passkey_added(*, to: str, language: str, name: str, passkey: str, link: str) -> OutboxMessage:
    """A passkey was added to a staff member's account: if it was not them, they must act."""
    return mail_queue(
        kind="staff_passkey_added", to=to, language=language, context={"name": name, "passkey": passkey, "link": link}
    )


def staff_second_factor_reset(*, to: str, language: str, name: str, by: str, link: str) -> OutboxMessage:
    """A staff member's authenticator and recovery codes were reset (``by`` an administrator, or the operator)."""
    return mail_queue(
        kind="staff_second_factor_reset", to=to, language=language, context={"name": name, "by": by, "link": link}
    )


def staff_role_grant(
    *,
    to: str,
    language: str,
    name: str,
    outcome: str,
    person: str,
    role: object,
    requested_by: str,
    decided_by: str,
    link: str,
) -> OutboxMessage:
    """An administrator hears that a powerful role was asked for, approved or declined (``outcome``).

    It names only staff members (staff data) and the role; the link leads to the staff accounts page.
    """
    return mail_queue(
        kind="staff_role_grant",
        to=to,
        language=language,
        context={
            "name": name,
            "outcome": outcome,
            "person": person,
            "role": role,
            "requested_by": requested_by,
            "decided_by": decided_by,
            "link": link,
        },
    )


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
    *, to: str, language: str, kind: str, link: str, reason: str, about: str = ""
) -> OutboxMessage:
    """Staff hear of an enquiry: a new one came (``reason`` "new"), or one is now theirs ("yours").

    It carries nothing of the person, only the kind of enquiry and a link to its page in the
    console, where reading it is access-checked and audited. ``about`` (the enquirer's address)
    holds it back while the person has restricted processing, and lets their requests find it.
    """
    return mail_queue(
        kind="enquiry_notification",
        to=to,
        language=language,
        context={"kind": kind, "link": link, "reason": reason},
        about=about,
    )


def enquiry_reply(
    *,
    to: str,
    language: str,
    subject: str,
    body: str,
    staff_name: str,
    controller: str,
    contact_email: str,
    received_at: object,
    policy_link: str,
    in_reply_to: str = "",
    references: str = "",
) -> OutboxMessage:
    """A staff member's answer to an enquiry, written in the console: their plain text, signed with
    their name, in the language of the enquirer's form. The subject is one line (the console
    refuses line breaks, and rendering joins any whitespace), so no header can be added through it."""
    return mail_queue(
        kind="enquiry_reply",
        to=to,
        language=language,
        context={
            "subject": subject,
            "body": body,
            "staff_name": staff_name,
            "controller": controller,
            "contact_email": contact_email,
            "received_at": received_at,
            "policy_link": policy_link,
        },
        in_reply_to=in_reply_to,
        references=references,
    )


# Rights requests. None of these carries personal data beyond the recipient's own address:
# whoever typed the address may not be its owner (LAW.md §3). ``authority`` is the
# declaration's supervisory authority, localised: name, address, email, website, complaint_text.


def rights_confirm(*, to: str, language: str, link: str, expires_hours: int, status_link: str = "") -> OutboxMessage:
    """Someone asked to exercise rights with this address: the single-use link that confirms it."""
    # The link is a secret that only its hash should outlive: the mail keeps nothing once sent.
    return mail_queue(
        kind="rights_confirm",
        to=to,
        language=language,
        context={"link": link, "expires_hours": expires_hours, "status_link": status_link},
        ephemeral=True,
    )


def rights_download_ready(
    *, to: str, language: str, link: str, expires_hours: int, kind: str, status_link: str = ""
) -> OutboxMessage:
    """A copy of the person's data (``kind`` access or portability) is ready behind a single-use link.

    Ephemeral: the link must not outlive its hash in a copy of the mail."""
    return mail_queue(
        kind="rights_download_ready",
        to=to,
        language=language,
        context={"link": link, "expires_hours": expires_hours, "package": kind, "status_link": status_link},
        ephemeral=True,
    )


def rights_extended(
    *,
    to: str,
    language: str,
    reference: str,
    due_on: str,
    extended_to: str,
    reason: str,
    authority: dict[str, str],
    ephemeral: bool = False,
    status_link: str = "",
) -> OutboxMessage:
    """The answer will take longer: the new date and the reasons, sent before the first date (Art. 12(3))."""
    return mail_queue(
        kind="rights_extended",
        to=to,
        language=language,
        context={
            "reference": reference,
            "due_on": due_on,
            "extended_to": extended_to,
            "reason": reason,
            "authority": authority,
            "status_link": status_link,
        },
        ephemeral=ephemeral,
    )


def rights_answered(
    *,
    to: str,
    language: str,
    reference: str,
    outcomes: list[str],
    message: str,
    authority: dict[str, str],
    ephemeral: bool = False,
    status_link: str = "",
) -> OutboxMessage:
    """The request is answered: what was done for each right, and the right to complain (P17).

    After an erasure the answer is ``ephemeral``: the outbox forgets the address once it is sent (P23).
    """
    return mail_queue(
        kind="rights_answered",
        to=to,
        language=language,
        context={
            "reference": reference,
            "outcomes": outcomes,
            "message": message,
            "authority": authority,
            "status_link": status_link,
        },
        ephemeral=ephemeral,
    )


def rights_refused(
    *,
    to: str,
    language: str,
    reference: str,
    ground: str,
    justification: str,
    authority: dict[str, str],
    ephemeral: bool = False,
    status_link: str = "",
) -> OutboxMessage:
    """The request is refused: the ground, the reasons, and the rights to complain and go to court (R11)."""
    return mail_queue(
        kind="rights_refused",
        to=to,
        language=language,
        context={
            "reference": reference,
            "ground": ground,
            "justification": justification,
            "authority": authority,
            "status_link": status_link,
        },
        ephemeral=ephemeral,
    )


def rights_restriction_ending(
    *, to: str, language: str, reference: str, lift_on: str, ephemeral: bool = False, status_link: str = ""
) -> OutboxMessage:
    """Art. 18(3): the person is told before a restriction of processing is lifted."""
    return mail_queue(
        kind="rights_restriction_ending",
        to=to,
        language=language,
        context={"reference": reference, "lift_on": lift_on, "status_link": status_link},
        ephemeral=ephemeral,
    )


def rights_reminder(*, to: str, language: str, reference: str, days_left: int, link: str) -> OutboxMessage:
    """A privacy officer is reminded that a request is due soon; the mail names the request, not the person."""
    return mail_queue(
        kind="rights_reminder",
        to=to,
        language=language,
        context={"reference": reference, "days_left": days_left, "link": link},
    )


def rights_message(
    *, to: str, language: str, reference: str, message: str, status_link: str, ephemeral: bool = False
) -> OutboxMessage:
    """A privacy officer writes to the person about their request; the status page shows it too."""
    return mail_queue(
        kind="rights_message",
        to=to,
        language=language,
        context={"reference": reference, "message": message, "status_link": status_link},
        ephemeral=ephemeral,
    )


def policy_changed(*, to: str, language: str, date: str, note: str, link: str) -> OutboxMessage:
    """Someone vern keeps in touch with is told of a significant change to the privacy policy (P20)."""
    return mail_queue(
        kind="policy_changed", to=to, language=language, context={"date": date, "note": note, "link": link}
    )


def staff_scan_findings(*, to: str, language: str, site: str, count: int, link: str) -> OutboxMessage:
    """A privacy officer is told that a scan of a company site found something new."""
    return mail_queue(
        kind="staff_scan_findings", to=to, language=language, context={"site": site, "count": count, "link": link}
    )


def staff_processor_reviews(*, to: str, language: str, processors: list[str], link: str) -> OutboxMessage:
    """A privacy officer is told which processors' reviews are overdue (once a day at most)."""
    return mail_queue(
        kind="staff_processor_reviews",
        to=to,
        language=language,
        context={"processors": processors, "count": len(processors), "link": link},
    )


def processor_changes_confirm(*, to: str, language: str, link: str) -> OutboxMessage:
    """Someone asked to be told of changes of sub-processors: the single-use link that confirms it.

    Ephemeral: the link must not outlive its hash in a copy of the mail."""
    return mail_queue(
        kind="processor_changes_confirm", to=to, language=language, context={"link": link}, ephemeral=True
    )


def processor_changes_notice(
    *,
    to: str,
    language: str,
    added: bool,
    name: str,
    processor: str,
    countries: str,
    announced: object,
    deadline: object,
    page: str,
    unsubscribe_link: str,
) -> OutboxMessage:
    """A confirmed subscriber is told that a processor announced a change of sub-processors."""
    return mail_queue(
        kind="processor_changes_notice",
        to=to,
        language=language,
        context={
            "added": added,
            "name": name,
            "processor": processor,
            "countries": countries,
            "announced": announced,
            "deadline": deadline,
            "page": page,
            "unsubscribe_link": unsubscribe_link,
        },
        list_unsubscribe=unsubscribe_link,
    )


# Newsletter. The confirmation is not marketing (it asks whether the person wants any); a
# mailing is, and is held back from restricted and objecting people (kind "newsletter").


def subscription_confirm(*, to: str, language: str, link: str, expires_text: str) -> OutboxMessage:
    """Someone asked to subscribe with this address: the single-use link that confirms it (double opt-in).

    Ephemeral: the link must not outlive its hash in a copy of the mail."""
    return mail_queue(
        kind="subscription_confirm",
        to=to,
        language=language,
        context={"link": link, "expires": expires_text},
        ephemeral=True,
    )


def newsletter(
    *,
    to: str,
    language: str,
    subject: str,
    body: str,
    unsubscribe_link: str,
    preferences_link: str,
    one_click: bool = True,
) -> OutboxMessage:
    """One mailing to one confirmed subscriber: plain text written by staff (escaped in the HTML part),
    with a visible unsubscribe link and the one-click headers (RFC 8058). A staff member's test copy
    (``one_click=False``) has example links and no headers: there is nothing to unsubscribe from."""
    return mail_queue(
        kind="newsletter",
        to=to,
        language=language,
        context={
            "subject": subject,
            "body": body,
            "unsubscribe_link": unsubscribe_link,
            "preferences_link": preferences_link,
        },
        list_unsubscribe=unsubscribe_link if one_click else "",
    )


def analytics_report(*, to: str, language: str, context: dict[str, object]) -> OutboxMessage:
    """A staff member who asked for it gets last week's statistics, with an alert when a figure moved sharply.

    ``context``: ``name``, ``start``, ``end``, ``alerts`` (sentences), ``rows``, ``pages`` and ``goals``
    (one line each: "Visitors: 350 (+150 %)") and ``link``, already written
    in the recipient's language (``vern.analytics.reports.report_context``). Anonymous totals only.
    """
    return mail_queue(kind="analytics_report", to=to, language=language, context=context)


def connector_task(
    *,
    to: str,
    language: str,
    processor: str,
    reference: str,
    identifiers: list[str],
    due_on: str,
    link: str,
    about: str = "",
) -> OutboxMessage:
    """A processor without an API is asked to find and erase a person, and to answer through a link."""
    return mail_queue(
        kind="connector_task",
        to=to,
        language=language,
        context={
            "processor": processor,
            "reference": reference,
            "identifiers": identifiers,
            "due_on": due_on,
            "link": link,
        },
        about=about,
    )


def connector_rectification_task(
    *,
    to: str,
    language: str,
    processor: str,
    reference: str,
    identifiers: list[str],
    correction: str,
    due_on: str,
    link: str,
    about: str = "",
) -> OutboxMessage:
    """A processor without an API is asked to correct a person's data (Art. 16, 19), and to answer through a link."""
    return mail_queue(
        kind="connector_rectification_task",
        to=to,
        language=language,
        context={
            "processor": processor,
            "reference": reference,
            "identifiers": identifiers,
            "correction": correction,
            "due_on": due_on,
            "link": link,
        },
        about=about,
    )


# The security registers (vern.breaches).


def staff_breach_alert(
    *, to: str, language: str, reference: str, title: str, stage: str, hours_left: int, deadline: str, link: str
) -> OutboxMessage:
    """Every privacy officer and administrator hears of a new breach (``stage`` "opened"), and again
    48 and 68 hours after awareness while no one has decided whether to notify Datatilsynet."""
    return mail_queue(
        kind="staff_breach_alert",
        to=to,
        language=language,
        context={
            "reference": reference,
            "title": title,
            "stage": stage,
            "hours_left": hours_left,
            "deadline": deadline,
            "link": link,
        },
    )


def staff_review_due(*, to: str, language: str, what: str, reference: str, link: str) -> OutboxMessage:
    """A risk's owner hears that its review is due (``what`` "risk"), or the privacy officers that the
    whole risk register has gone a year without review (``what`` "register")."""
    return mail_queue(
        kind="staff_review_due",
        to=to,
        language=language,
        context={"what": what, "reference": reference, "link": link},
    )


def breach_notice(
    *,
    to: str,
    language: str,
    reference: str,
    controller: str,
    contact: str,
    what: str,
    consequences: str,
    measures: str,
    advice: str,
    link: str,
) -> OutboxMessage:
    """A person whose data a breach concerns is told of it (Art. 34): what happened, whom to ask,
    the likely consequences, what was done, and what they can do themselves."""
    return mail_queue(
        kind="breach_notice",
        to=to,
        language=language,
        context={
            "reference": reference,
            "controller": controller,
            "contact": contact,
            "what": what,
            "consequences": consequences,
            "measures": measures,
            "advice": advice,
            "link": link,
        },
    )
