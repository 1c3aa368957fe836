"""Writes to the security registers: each in a transaction, with an audit row.

A service refuses what the law or the register does not allow with ``Refused(code, field)``;
the console shows the refusal on the field it names, in the staff member's language
(``vern.breaches.messages``), and nothing is changed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format

from vern.accounts.models import User
from vern.accounts.roles import Role
from vern.accounts.selectors import active_holders
from vern.audit.events import AuditEvent
from vern.audit.services import Actor, audit_record
from vern.breaches import dpia
from vern.breaches.models import Breach, RegisterReview, Reminder, Report, Risk, Screening
from vern.declaration.selectors import latest_version
from vern.mail import emails
from vern.registry.selectors import records_of

# When, counted from awareness, every privacy officer and administrator is told again of a
# breach on which no one has decided whether to notify Datatilsynet.
ALERT_HOURS = (48, 68)
REGISTER_REVIEW_EVERY = dt.timedelta(days=365)

BREACH_FIELDS = (
    "title",
    "aware_at",
    "occurred_at",
    "discovered_how",
    "nature",
    "cause",
    "description",
    "categories",
    "special_categories",
    "data_subjects",
    "people_approx",
    "records_approx",
    "data_location",
    "consequences",
    "measures_taken",
    "measures_planned",
    "advice",
)
# Fields whose values are short and never name anyone: the audit row keeps their old and new values;
# of the others, how many changed (their texts may name people, and lists of codes would read as
# codes in the audit log; the breach itself shows them in words).
BREACH_VALUES = ("aware_at", "occurred_at", "special_categories", "people_approx", "records_approx")
RISK_FIELDS = (
    "asset",
    "purpose",
    "threat",
    "likelihood",
    "impact",
    "measures",
    "owner",
    "residual_likelihood",
    "residual_impact",
    "next_review",
)
RISK_VALUES = ("likelihood", "impact", "residual_likelihood", "residual_impact", "next_review", "owner")


class Refused(Exception):
    """A change the registers do not take; ``code`` says why, ``field`` what it is about ("" for none)."""

    def __init__(self, code: str, field: str = "") -> None:
        super().__init__(code)
        self.code = code
        self.field = field


def _value(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, User):
        return value.pk
    return value


def _drop_none(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


def _save_changed(
    current: Breach | Risk, *, now: dt.datetime, staff: User, action: AuditEvent, data: dict[str, Any]
) -> None:
    """Save an edited breach or risk, checked, with the audit row saying what changed (in the caller's transaction)."""
    current.updated_at = now
    current.full_clean()
    current.save()
    audit_record(
        action=action,
        actor=Actor.staff(staff),
        object_type=f"breaches.{current._meta.model_name}",
        object_id=current.pk,
        data=data,
    )


def _link(name: str, language: str, **kwargs: object) -> str:
    with translation.override(language):
        return settings.VERN_PUBLIC_URL + reverse(name, kwargs=kwargs or None)


def _language(user: User) -> str:
    return user.language if user.language in ("nb", "en") else "nb"


def _alerted() -> list[User]:
    """Every active privacy officer and administrator, once each."""
    people = {u.pk: u for role in (Role.PRIVACY_OFFICER, Role.ADMIN) for u in active_holders(role)}
    return [people[pk] for pk in sorted(people)]


def _once(key: str, now: dt.datetime) -> bool:
    """Claim the reminder ``key``; False when it was claimed before (by this run or another at once)."""
    try:
        with transaction.atomic():
            Reminder.objects.create(key=key, sent_at=now)
    except IntegrityError:
        return False
    return True


# ------------------------------------------------------------------ breaches


def _check_breach(data: Mapping[str, Any], now: dt.datetime) -> None:
    if data["aware_at"] > now:
        raise Refused("future", "aware_at")
    if data.get("occurred_at") and data["occurred_at"] > now:
        raise Refused("future_occurred", "occurred_at")


def _alert(breach: Breach, stage: str, now: dt.datetime) -> None:
    left = max(0, int((breach.deadline - now).total_seconds() // 3600))
    for person in _alerted():
        language = _language(person)
        with translation.override(language):
            deadline = date_format(timezone.localtime(breach.deadline), "DATETIME_FORMAT")
        emails.staff_breach_alert(
            to=person.email,
            language=language,
            reference=breach.reference,
            title=breach.title,
            stage=stage,
            hours_left=left,
            deadline=deadline,
            link=_link("breaches_staff:detail", language, pk=breach.pk),
        )


def breach_open(*, staff: User, data: Mapping[str, Any], now: dt.datetime | None = None) -> Breach:
    """Record a breach; every privacy officer and administrator is told at once (Art. 33's clock runs)."""
    now = now or timezone.now()
    _check_breach(data, now)
    with transaction.atomic():
        breach = Breach(created_by=staff, created_at=now, updated_at=now)
        for name in BREACH_FIELDS:
            if name in data:
                setattr(breach, name, data[name])
        breach.full_clean()
        breach.save()
        audit_record(
            action=AuditEvent.BREACH_OPENED,
            actor=Actor.staff(staff),
            object_type="breaches.breach",
            object_id=breach.pk,
            data={name: _value(getattr(breach, name)) for name in BREACH_VALUES if getattr(breach, name) is not None},
        )
        if _once(f"breach:{breach.pk}:opened", now):
            _alert(breach, "opened", now)
    return breach


def _locked(breach: Breach) -> Breach:
    current = Breach.objects.select_for_update().get(pk=breach.pk)
    if not current.is_open:
        raise Refused("closed")
    return current


def breach_update(*, staff: User, breach: Breach, data: Mapping[str, Any], now: dt.datetime | None = None) -> Breach:
    """Change what is known of an open breach; a closed one is refused."""
    now = now or timezone.now()
    with transaction.atomic():
        current = _locked(breach)
        _check_breach(data, now)
        old: dict[str, Any] = {}
        new: dict[str, Any] = {}
        count = 0
        for name in BREACH_FIELDS:
            if name in data and getattr(current, name) != data[name]:
                count += 1
                if name in BREACH_VALUES:
                    old[name], new[name] = _value(getattr(current, name)), _value(data[name])
                setattr(current, name, data[name])
        if not count:
            return current
        changed = {"fields_changed": count, "old": _drop_none(old), "new": _drop_none(new)}
        _save_changed(current, now=now, staff=staff, action=AuditEvent.BREACH_CHANGED, data=changed)
    return current


def breach_decide(
    *,
    staff: User,
    breach: Breach,
    authority: str,
    people: str,
    reasons: str,
    delay_reason: str = "",
    now: dt.datetime | None = None,
) -> Breach:
    """Whether Datatilsynet (Art. 33) and the people affected (Art. 34) are told, and why.

    Reasons are always required (Art. 33(5): a breach not notified is documented with why); a
    decision to notify taken after the 72 hours needs the reason for the delay (Art. 33(1))."""
    now = now or timezone.now()
    choices = {Breach.Decision.NOTIFY.value, Breach.Decision.NOT_NOTIFY.value}
    with transaction.atomic():
        current = _locked(breach)
        if authority not in choices:
            raise Refused("undecided", "authority")
        if people not in choices:
            raise Refused("undecided", "people")
        if not reasons.strip():
            raise Refused("no_reasons", "reasons")
        late = now > current.deadline and authority == Breach.Decision.NOTIFY
        if late and not (delay_reason.strip() or current.delay_reason.strip()):
            raise Refused("no_delay_reason", "delay_reason")
        old = {"authority": current.authority_decision, "people": current.people_decision}
        current.authority_decision = authority
        current.people_decision = people
        current.decision_reasons = reasons.strip()
        if delay_reason.strip():
            current.delay_reason = delay_reason.strip()
        current.decided_at = now
        current.decided_by = staff
        current.updated_at = now
        current.save()
        audit_record(
            action=AuditEvent.BREACH_DECIDED,
            actor=Actor.staff(staff),
            object_type="breaches.breach",
            object_id=current.pk,
            data={"old": old, "new": {"authority": authority, "people": people}, "late": late},
        )
    return current


def breach_report(
    *,
    staff: User,
    breach: Breach,
    stage: str,
    submitted_at: dt.datetime,
    reference: str = "",
    note: str = "",
    now: dt.datetime | None = None,
) -> Report:
    """Record a report sent to Datatilsynet: the initial one, follow-ups, and the final one
    (Art. 33(4): what is not known yet may follow in stages). It keeps the export as it was sent."""
    from vern.breaches.export import breach_record  # the export reads the models; kept apart

    now = now or timezone.now()
    with transaction.atomic():
        current = _locked(breach)
        if current.authority_decision != Breach.Decision.NOTIFY:
            raise Refused("not_notifying", "stage")
        if submitted_at > now:
            raise Refused("future", "submitted_at")
        stages = set(current.reports.values_list("stage", flat=True))
        if stage == Report.Stage.INITIAL and stages:
            raise Refused("initial_twice", "stage")
        if stage != Report.Stage.INITIAL and Report.Stage.INITIAL not in stages:
            raise Refused("initial_first", "stage")
        if Report.Stage.FINAL in stages:
            raise Refused("after_final", "stage")
        if stage == Report.Stage.INITIAL and submitted_at > current.deadline and not current.delay_reason.strip():
            raise Refused("no_delay_reason", "submitted_at")
        report = Report.objects.create(
            breach=current,
            stage=stage,
            submitted_at=submitted_at,
            reference=reference.strip(),
            note=note.strip(),
            created_by=staff,
            created_at=now,
            snapshot=breach_record(current, "nb", stage=stage, submitted_at=submitted_at),
        )
        audit_record(
            action=AuditEvent.BREACH_REPORTED,
            actor=Actor.staff(staff),
            object_type="breaches.breach",
            object_id=current.pk,
            data={"stage": stage, "submitted_at": submitted_at.isoformat(), "report": report.pk},
        )
    return report


def breach_close(*, staff: User, breach: Breach, now: dt.datetime | None = None) -> Breach:
    """Close a breach once both decisions are taken; after that it no longer changes."""
    now = now or timezone.now()
    with transaction.atomic():
        current = _locked(breach)
        if current.undecided or current.people_decision == Breach.Decision.UNDECIDED:
            raise Refused("undecided_close")
        current.status = Breach.Status.CLOSED
        current.closed_at = now
        current.updated_at = now
        current.save()
        audit_record(
            action=AuditEvent.BREACH_CLOSED,
            actor=Actor.staff(staff),
            object_type="breaches.breach",
            object_id=current.pk,
        )
    return current


def _language_of(found: list[Any]) -> str:
    for item in found:
        for row in item.records[:5]:
            language = getattr(row, "language", "")
            if language in ("nb", "en"):
                return str(language)
    return "nb"


def breach_notice_send(
    *, staff: User, breach: Breach, addresses: list[str], now: dt.datetime | None = None
) -> tuple[int, int]:
    """Mail the notice of a breach (Art. 34) to each listed address that vern holds data about.

    Each address is looked up through the registry (``records_of``): those found get the notice
    in their own language where a record says it (else Bokmål), through the outbox; those not
    found are counted and left. Returns (sent, not found). Sent once per breach: a second send
    is refused, so no one gets the notice twice."""
    from vern.breaches.export import notice_context

    now = now or timezone.now()
    with transaction.atomic():
        current = _locked(breach)
        if current.people_decision != Breach.Decision.NOTIFY:
            raise Refused("people_not_notified", "addresses")
        if current.notice_sent_at is not None:
            raise Refused("notice_sent", "addresses")
        found_people: list[tuple[str, str]] = []
        missing = 0
        for address in dict.fromkeys(a.strip().lower() for a in addresses if a.strip()):
            found = [item for item in records_of(email=address) if item.records.exists()]
            if found:
                found_people.append((address, _language_of(found)))
            else:
                missing += 1
        if not found_people:
            raise Refused("nobody_found", "addresses")
        for address, language in found_people:
            emails.breach_notice(to=address, language=language, **notice_context(current, language))
        current.notice_sent_at = now
        current.notice_count = len(found_people)
        current.save(update_fields=["notice_sent_at", "notice_count"])
        audit_record(
            action=AuditEvent.BREACH_NOTICE_SENT,
            actor=Actor.staff(staff),
            object_type="breaches.breach",
            object_id=current.pk,
            data={"sent": len(found_people), "not_found": missing},
        )
    return len(found_people), missing


def breach_alerts_send(now: dt.datetime | None = None) -> int:
    """Tell every privacy officer and administrator again of each open breach that is still undecided
    48 and 68 hours after awareness. Each reminder goes once, however often the job runs and however
    many workers run it at once (the ``Reminder`` key is unique); a missed one is sent late, unless
    the next is due too, which then replaces it."""
    now = now or timezone.now()
    sent = 0
    for breach in Breach.objects.filter(status=Breach.Status.OPEN, authority_decision=Breach.Decision.UNDECIDED):
        due = [hours for hours in ALERT_HOURS if now >= breach.aware_at + dt.timedelta(hours=hours)]
        if not due:
            continue
        hours = due[-1]
        with transaction.atomic():
            if not _once(f"breach:{breach.pk}:{hours}h", now):
                continue
            _alert(breach, f"{hours}h", now)
            audit_record(
                action=AuditEvent.BREACH_REMINDED,
                actor=Actor.system(),
                object_type="breaches.breach",
                object_id=breach.pk,
                data={"hours": hours},
            )
            sent += 1
    return sent


# ------------------------------------------------------------------ risks


def _check_risk(data: Mapping[str, Any]) -> None:
    if not (str(data.get("asset", "")).strip() or data.get("purpose")):
        raise Refused("no_asset", "asset")
    owner = data.get("owner")
    if owner is not None and not owner.is_active:
        raise Refused("owner_inactive", "owner")


def risk_add(*, staff: User, data: Mapping[str, Any], today: dt.date | None = None) -> Risk:
    """Add a risk; its first review cannot lie in the past."""
    today = today or timezone.localdate()
    _check_risk(data)
    if data["next_review"] < today:
        raise Refused("review_past", "next_review")
    with transaction.atomic():
        risk = Risk(created_by=staff)
        for name in RISK_FIELDS:
            setattr(risk, name, data[name])
        risk.full_clean()
        risk.save()
        audit_record(
            action=AuditEvent.RISK_ADDED,
            actor=Actor.staff(staff),
            object_type="breaches.risk",
            object_id=risk.pk,
            data={name: _value(getattr(risk, name)) for name in RISK_VALUES},
        )
    return risk


def risk_update(
    *, staff: User, risk: Risk, data: Mapping[str, Any], reviewed: bool = False, now: dt.datetime | None = None
) -> Risk:
    """Change a risk; ``reviewed`` records that its owner or a privacy officer reviewed it now, and
    then the next review must lie ahead."""
    now = now or timezone.now()
    _check_risk(data)
    if reviewed and data["next_review"] <= timezone.localdate(now):
        raise Refused("review_not_ahead", "next_review")
    with transaction.atomic():
        current = Risk.objects.select_for_update().get(pk=risk.pk)
        old: dict[str, Any] = {}
        new: dict[str, Any] = {}
        count = 0
        for name in RISK_FIELDS:
            if getattr(current, name) != data[name]:
                count += 1
                if name in RISK_VALUES:
                    old[name], new[name] = _value(getattr(current, name)), _value(data[name])
                setattr(current, name, data[name])
        if reviewed:
            current.last_reviewed_at = now
        if not count and not reviewed:
            return current
        changed: dict[str, Any] = {"fields_changed": count, "old": old, "new": new, "reviewed": reviewed}
        _save_changed(current, now=now, staff=staff, action=AuditEvent.RISK_CHANGED, data=changed)
    return current


def register_review(*, staff: User, note: str, now: dt.datetime | None = None) -> RegisterReview:
    """Record a review of the whole risk register (at least yearly): who, when, with a note."""
    now = now or timezone.now()
    if not note.strip():
        raise Refused("no_note", "note")
    with transaction.atomic():
        review = RegisterReview.objects.create(
            reviewed_at=now, reviewed_by=staff, note=note.strip(), risks=Risk.objects.count()
        )
        audit_record(
            action=AuditEvent.RISK_REGISTER_REVIEWED,
            actor=Actor.staff(staff),
            object_type="breaches.registerreview",
            object_id=review.pk,
            data={"risks": review.risks},
        )
    return review


def screening_record(
    *,
    staff: User,
    purpose: str,
    purposes: set[str],
    list_items: list[str],
    criteria: list[str],
    reasons: str,
    now: dt.datetime | None = None,
) -> Screening:
    """Screen one declared purpose for an impact assessment; the outcome follows from what applies."""
    now = now or timezone.now()
    if purpose not in purposes:
        raise Refused("unknown_purpose", "purpose")
    if set(list_items) - set(dpia.DATATILSYNET) or set(criteria) - set(dpia.EDPB):
        raise Refused("unknown_item")
    if not reasons.strip():
        raise Refused("no_reasons", "reasons")
    version = latest_version()
    with transaction.atomic():
        screening = Screening.objects.create(
            purpose=purpose,
            list_items=sorted(list_items),
            criteria=sorted(criteria),
            outcome=dpia.outcome_of(list_items, criteria),
            reasons=reasons.strip(),
            policy_version=version.number if version else None,
            screened_at=now,
            screened_by=staff,
        )
        audit_record(
            action=AuditEvent.DPIA_SCREENED,
            actor=Actor.staff(staff),
            object_type="breaches.screening",
            object_id=screening.pk,
            data={"outcome": screening.outcome, "list_items": len(list_items), "criteria": len(criteria)},
        )
    return screening


def risk_reminders_send(now: dt.datetime | None = None) -> int:
    """Remind each risk's owner when its review is due, and the privacy officers when the whole register
    has gone a year without review; each reminder once."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    sent = 0
    for risk in Risk.objects.filter(next_review__lte=today).select_related("owner"):
        with transaction.atomic():
            if not _once(f"risk:{risk.pk}:{risk.next_review.isoformat()}", now):
                continue
            people = [risk.owner] if risk.owner.is_active else active_holders(Role.PRIVACY_OFFICER)
            for person in people:
                language = _language(person)
                emails.staff_review_due(
                    to=person.email,
                    language=language,
                    what="risk",
                    reference=f"R-{risk.pk:04d}",
                    link=_link("risks_staff:detail", language, pk=risk.pk),
                )
            audit_record(
                action=AuditEvent.RISK_REMINDED, actor=Actor.system(), object_type="breaches.risk", object_id=risk.pk
            )
            sent += 1
    last = RegisterReview.objects.values_list("reviewed_at", flat=True).first()
    first_risk = Risk.objects.order_by("created_at").values_list("created_at", flat=True).first()
    started = last or first_risk
    if started is not None and now >= started + REGISTER_REVIEW_EVERY:
        due = timezone.localdate(started + REGISTER_REVIEW_EVERY)
        with transaction.atomic():
            if _once(f"register:{due.isoformat()}", now):
                for person in active_holders(Role.PRIVACY_OFFICER):
                    language = _language(person)
                    emails.staff_review_due(
                        to=person.email,
                        language=language,
                        what="register",
                        reference="",
                        link=_link("risks_staff:list", language),
                    )
                audit_record(
                    action=AuditEvent.RISK_REMINDED, actor=Actor.system(), data={"register_due": due.isoformat()}
                )
                sent += 1
    return sent
