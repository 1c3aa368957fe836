"""Reads of the processor register: for the console, the exports, the trust page and the rest of vern."""

from __future__ import annotations

import datetime as dt
import io
import json
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext

from vern.accounts.models import User
from vern.accounts.roles import Capability
from vern.declaration.schema import Declaration
from vern.lib import csvsafe
from vern.lib.wording import Wording
from vern.processors.models import EEA, Processor, Seeding, SubProcessor, SubProcessorChange
from vern.registry.surface import RegisteredProcessor, RegisteredSubProcessor, Tile

# What a declaration's transfer mechanism may say for each of the register's.
ALLOWED_IN_DECLARATION = {"none": set(), "adequacy": {"adequacy", "dpf"}, "scc": {"scc"}}


def in_use() -> bool:
    """The register is in use once it was started from the policy, or a processor was added."""
    return Seeding.objects.exists() or Processor.objects.exists()


def processors() -> QuerySet[Processor]:
    current = SubProcessor.objects.filter(removed_on__isnull=True)
    return Processor.objects.defer("agreement_file").prefetch_related(
        Prefetch("sub_processors", queryset=current, to_attr="current_subs")
    )


def active_processors() -> QuerySet[Processor]:
    return processors().filter(status=Processor.Status.ACTIVE)


def overdue(today: dt.date | None = None) -> QuerySet[Processor]:
    today = today or timezone.localdate()
    return Processor.objects.exclude(status=Processor.Status.ENDED).filter(next_review__lt=today)


def changes(limit: int = 50) -> QuerySet[SubProcessorChange]:
    return SubProcessorChange.objects.select_related("processor").order_by("-announced_on", "-recorded_at")[:limit]


def registered(processor: Processor) -> RegisteredProcessor:
    subs = getattr(processor, "current_subs", None)
    if subs is None:
        subs = list(processor.sub_processors.filter(removed_on__isnull=True))
    mechanism = None if processor.transfer_mechanism == Processor.Mechanism.NONE else processor.transfer_mechanism
    return RegisteredProcessor(
        id=processor.key,
        name=processor.name,
        service={"nb": processor.service_nb, "en": processor.service_en},
        countries=tuple(processor.countries),
        transfer_mechanism=mechanism,
        scc_module=processor.scc_module,
        purposes=tuple(processor.purposes),
        data_categories=tuple(processor.data_categories),
        agreement_date=processor.agreement_date,
        next_review=processor.next_review,
        sub_processors=tuple(RegisteredSubProcessor(s.name, s.service, tuple(s.countries)) for s in subs),
    )


def register() -> list[RegisteredProcessor] | None:
    """The surface's ``processor_register``: the active processors, or None while the register is unused."""
    if not in_use():
        return None
    return [registered(p) for p in active_processors()]


def declaration_problems(declaration: Declaration) -> list[tuple[tuple[int | str, ...], Wording]]:
    """The surface's ``declaration_checks``: what a declaration about to be published says of
    processors that the register contradicts. Nothing while the register is not in use."""
    if not in_use():
        return []
    found = {p.key: p for p in processors()}
    problems: list[tuple[tuple[int | str, ...], Wording]] = []
    for i, declared in enumerate(declaration.processors):
        if declared.status == "ended":
            continue
        entry = found.get(declared.id)
        if entry is None:
            problems.append(
                (
                    ("processors", i, "id"),
                    Wording.of(
                        gettext_noop("%(name)s (%(id)s) is not in the processor register: add it there first"),
                        name=declared.name,
                        id=declared.id,
                    ),
                )
            )
            continue
        if declared.status == "active" and entry.status != Processor.Status.ACTIVE:
            outside = sorted(set(entry.countries) - EEA)
            inactive = (
                Wording.of(
                    gettext_noop(
                        "%(name)s is not active in the processor register; it has no transfer mechanism for "
                        "%(countries)s"
                    ),
                    name=declared.name,
                    countries=", ".join(outside),
                )
                if outside and entry.transfer_mechanism == Processor.Mechanism.NONE
                else Wording.of(gettext_noop("%(name)s is not active in the processor register"), name=declared.name)
            )
            problems.append((("processors", i, "status"), inactive))
        extra = sorted(set(declared.countries) - set(entry.countries))
        if extra:
            problems.append(
                (
                    ("processors", i, "countries"),
                    Wording.of(
                        gettext_noop("the processor register does not place %(name)s in %(countries)s"),
                        name=declared.name,
                        countries=", ".join(extra),
                    ),
                )
            )
        outside = sorted((set(declared.countries) | set(entry.countries)) - EEA)
        if outside and (declared.transfer_mechanism or "") not in ALLOWED_IN_DECLARATION[entry.transfer_mechanism]:
            register_says = entry.transfer_mechanism
            problems.append(
                (
                    ("processors", i, "transfer_mechanism"),
                    Wording.of(
                        gettext_noop(
                            "%(name)s processes data in %(countries)s; the processor register records "
                            "%(register)s as its transfer mechanism, the declaration %(declared)s"
                        ),
                        name=declared.name,
                        countries=", ".join(outside),
                        register=register_says,
                        declared=declared.transfer_mechanism or "none",
                    ),
                )
            )
    names = {p.name.casefold() for p in found.values() if p.status == Processor.Status.ACTIVE}
    for i, cookie in enumerate(declaration.cookies.cookies):
        if cookie.party == "third" and cookie.provider.casefold() not in names:
            problems.append(
                (
                    ("cookies", "cookies", i, "provider"),
                    Wording.of(
                        gettext_noop(
                            "%(provider)s sets a third-party cookie but is not an active processor in the register"
                        ),
                        provider=cookie.provider,
                    ),
                )
            )
    return problems


def console_tiles(user: User) -> list[Tile]:
    if not user.can(Capability.READ_PROCESSORS):
        return []
    late = overdue().count()
    text = (
        ngettext("%(count)s processor review is overdue.", "%(count)s processor reviews are overdue.", late)
        % {"count": late}
        if late
        else _("Processors, their sub-processors, agreements and transfers.")
    )
    count = Processor.objects.exclude(status=Processor.Status.ENDED).count()
    return [Tile(_("Processors"), text, reverse("processors_staff:register"), count, alert=bool(late))]


# ------------------------------------------------------------------ exports

EXPORT_FIELDS = (
    "key",
    "name",
    "service_nb",
    "service_en",
    "status",
    "countries",
    "purposes",
    "data_categories",
    "agreement_date",
    "agreement_document",
    "transfer_mechanism",
    "scc_module",
    "transfer_assessment",
    "next_review",
    "reviewed_on",
    "sub_processors",
)


def export_rows() -> list[dict[str, Any]]:
    rows = []
    for p in processors().order_by("name"):
        rows.append(
            {
                "key": p.key,
                "name": p.name,
                "service_nb": p.service_nb,
                "service_en": p.service_en,
                "status": p.status,
                "countries": list(p.countries),
                "purposes": list(p.purposes),
                "data_categories": list(p.data_categories),
                "agreement_date": p.agreement_date.isoformat() if p.agreement_date else None,
                "agreement_document": p.agreement_filename or None,
                "transfer_mechanism": p.transfer_mechanism,
                "scc_module": p.scc_module,
                "transfer_assessment": p.transfer_assessment,
                "next_review": p.next_review.isoformat(),
                "reviewed_on": p.reviewed_on.isoformat() if p.reviewed_on else None,
                "sub_processors": [
                    {"name": s.name, "service": s.service, "countries": list(s.countries)}
                    for s in getattr(p, "current_subs", [])
                ],
            }
        )
    return rows


def export_json(rows: list[dict[str, Any]]) -> str:
    return json.dumps({"processors": rows}, ensure_ascii=False, indent=2) + "\n"


def export_csv(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csvsafe.writer(out)
    writer.writerow(EXPORT_FIELDS)
    for row in rows:
        cells = []
        for field in EXPORT_FIELDS:
            value = row[field]
            if field == "sub_processors":
                value = "; ".join(f"{s['name']} ({', '.join(s['countries'])})" for s in value)
            elif isinstance(value, list):
                value = ", ".join(value)
            cells.append("" if value is None else str(value))
        writer.writerow(cells)
    return out.getvalue()
