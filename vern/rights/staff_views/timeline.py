"""A request's timeline on its page: each event named, with what it did, in the staff member's language."""

from __future__ import annotations

from typing import Any

from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from vern.accounts.models import User
from vern.rights.models import Event, Request, Right
from vern.rights.staff_forms import refusal_text
from vern.rights.staff_views.pages import date_text, model_title


def event_labels() -> dict[str, str]:
    return {
        "received": _("Received"),
        "confirmation_sent": _("Confirmation link sent"),
        "confirmed": _("Confirmed"),
        "lapsed": _("Not confirmed in time"),
        "assigned": _("Assigned"),
        "started": _("Work started"),
        "note": _("Internal note"),
        "message": _("Message to the person"),
        "phone_verified": _("Phone number verified"),
        "extended": _("Deadline extended"),
        "answered": _("Answered"),
        "refused": _("Refused"),
        "reminder": _("Reminder to privacy officers"),
        "marketing_suppressed": _("Address blocked from marketing"),
        "restriction_lift_announced": _("End of restriction announced"),
        "rectified": _("Corrected"),
        "objection_decided": _("Objection decided"),
        "erasure_queued": _("Erasure handed to the worker"),
        "erasure_claimed": _("Erasure started"),
        "erasure_refused": _("Erasure not carried out"),
        "erased": _("Erasure carried out"),
        "erasure_step": _("Erasure step"),
        "download_offered": _("Download link sent"),
        "downloaded": _("Package downloaded"),
    }


def _event_detail(event: Event, names: dict[int, str]) -> str:
    data = event.data or {}
    kind = event.kind
    if kind == "received" and data.get("channel") in Request.Channel.values:
        return str(Request.Channel(data["channel"]).label)
    if kind == "started" and data.get("automatic") and data.get("right") in Right.values:
        return _("by itself, when %(right)s was carried out") % {"right": str(Right(data["right"]).label).lower()}
    if kind == "answered" and data.get("automatic"):
        return _("by itself: everything asked for was carried out")
    if kind == "confirmed":
        return _("identity checked by staff") if data.get("how") == "staff" else _("by the link")
    if kind == "assigned":
        to = data.get("to")
        return _("to %(name)s") % {"name": names.get(to, "–")} if to else _("to nobody")
    if kind == "extended" and data.get("extended_to"):
        return _("until %(date)s") % {"date": date_text(data["extended_to"])}
    if kind == "restriction_lift_announced" and data.get("lift_on"):
        return _("ends on %(date)s") % {"date": date_text(data["lift_on"])}
    if kind == "refused" and data.get("ground") in Request.Ground.values:
        return str(Request.Ground(data["ground"]).label)
    if kind == "reminder" and "days_left" in data:
        days = int(data["days_left"])
        return ngettext("%(days)s day left", "%(days)s days left", days) % {"days": days}
    if kind in ("download_offered", "downloaded") and data.get("package") in Right.values:
        return str(Right(data["package"]).label)
    if kind == "erasure_refused" and data.get("code"):
        return refusal_text(str(data["code"]))
    if kind == "objection_decided":
        return _("upheld") if data.get("decision") == "upheld" else _("overridden")
    if kind == "rectified":
        recipients = data.get("recipients") or []
        if recipients:
            return _("recipients to tell: %(names)s") % {"names": ", ".join(str(r) for r in recipients)}
        return ""
    if kind == "erasure_step":
        count = sum(int(n) for n in (data.get("deleted") or {}).values())
        count += sum(int(n) for n in (data.get("anonymised") or {}).values())
        count += int(data.get("contact_cleared") or 0)
        name = model_title(str(data.get("model", "")))
        return ngettext("%(name)s: %(count)s record", "%(name)s: %(count)s records", count) % {
            "name": name,
            "count": count,
        }
    if kind == "erased":
        count = sum(int(n) for n in (data.get("deleted") or {}).values())
        count += sum(int(n) for n in (data.get("anonymised") or {}).values())
        return ngettext("%(count)s record removed or anonymised", "%(count)s records removed or anonymised", count) % {
            "count": count
        }
    if kind == "done_withdraw_consent" and "withdrawn" in data:
        count = int(data["withdrawn"])
        return ngettext("%(count)s consent withdrawn", "%(count)s consents withdrawn", count) % {"count": count}
    return ""


def _event_label(kind: str, registered: bool = False) -> str:
    if kind == "received" and registered:
        return _("Registered")
    label = event_labels().get(kind)
    if label is not None:
        return label
    if kind.startswith("done_") and kind[5:] in Right.values:
        return _("%(right)s: done") % {"right": Right(kind[5:]).label}
    return kind.replace("_", " ").capitalize()


def timeline(subject: Request) -> list[dict[str, Any]]:
    events = list(subject.events.select_related("actor").order_by("at", "pk"))
    assignees = {int(e.data["to"]) for e in events if e.kind == "assigned" and isinstance(e.data.get("to"), int)}
    names = {user.pk: user.name for user in User.objects.filter(pk__in=assignees)}
    received = formats.date_format(timezone.localtime(subject.received_at), "SHORT_DATETIME_FORMAT")

    def detail(event: Event) -> str:
        text = _event_detail(event, names)
        if event.kind == "received" and event.actor_id is not None:  # registered later than it came
            return _("%(channel)s, received %(when)s") % {"channel": text, "when": received}
        return text

    return [
        {
            "at": event.at,
            "kind": event.kind,
            "label": _event_label(event.kind, registered=event.actor_id is not None),
            "detail": detail(event),
            "actor": event.actor.name if event.actor else "",
            "note": event.note,
        }
        for event in events
    ]
