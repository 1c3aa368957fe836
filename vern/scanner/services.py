"""Scanning the company's sites as proof: each result kept, its digest in the audit chain, and the
privacy officers told of a new violation."""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import json
import logging
import os
import socket
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from vern.accounts.roles import Role
from vern.accounts.selectors import active_holders
from vern.audit.events import AuditEvent
from vern.audit.services import Actor, audit_record
from vern.declaration.models import PolicyVersion
from vern.declaration.selectors import declaration_of, latest_version
from vern.mail import emails
from vern.scanner.crawl import NOT_INSTALLED, ScanFailed, origin_of, scan
from vern.scanner.findings import findings as judge
from vern.scanner.models import ScanRun, ScanShot

log = logging.getLogger(__name__)

# Debian's package, as `make test` installs it; VERN_CHROMIUM names another, as for the tests and `vern scan`.
CHROMIUM = os.environ.get("VERN_CHROMIUM", "/usr/bin/chromium")
PAGES = 10
TIMEOUT_SECONDS = 300.0
EVERY = dt.timedelta(hours=24)  # a site is scanned at least this often
SHOTS_KEPT = dt.timedelta(days=30)  # pictures of older scans go; the findings stay


def declared_sites() -> list[str]:
    """The public site, and the other sites the declaration says embed the banner."""
    version = latest_version()
    others = (
        [str(origin).rstrip("/") + "/" for origin in declaration_of(version).cookies.embedding_origins]
        if version
        else []
    )
    return list(dict.fromkeys([settings.VERN_PUBLIC_URL.rstrip("/") + "/", *others]))


def scan_record(*, url: str, trigger: str, actor: Actor, chromium: str = CHROMIUM, pages: int = PAGES) -> ScanRun:
    """Scan ``url``, keep the result and its pictures, record its digest in the audit chain, and
    mail the privacy officers when it found something the last scan of the site did not."""
    version = latest_version()
    if version is None:
        raise ScanFailed("no declaration is published, so there is nothing to compare with")
    run = ScanRun.objects.create(url=url, trigger=trigger, policy_version=version.number)
    found: list[dict[str, Any]] = []
    refused = _private_target(url)
    previous = ScanRun.objects.filter(url=url).exclude(pk=run.pk).exclude(status=ScanRun.Status.RUNNING).first()
    try:
        if refused:
            raise ScanFailed(refused)
        result = scan(url, pages=pages, timeout=TIMEOUT_SECONDS, chromium=chromium, shots=True)
    except ImportError:
        run.status, run.problems = ScanRun.Status.FAILED, [NOT_INSTALLED]
    except ScanFailed as exc:
        run.status, run.problems = ScanRun.Status.FAILED, [str(exc)]
    else:
        found = [f.as_dict() for f in judge(result, declaration_of(version))]
        run.findings, run.problems = found, result.problems
        run.counts = {
            "pages": max((len(seen.pages) for seen in result.passes.values()), default=0),
            "cookies": len({name for seen in result.passes.values() for name in seen.cookies}),
            "other_sites": len({r.url for seen in result.passes.values() for r in seen.requests}),
        }
        run.status = ScanRun.Status.FINDINGS if found else ScanRun.Status.CLEAN
        if result.problems and not found:
            run.status = ScanRun.Status.FAILED
        ScanShot.objects.bulk_create(
            ScanShot(run=run, pass_name=name, image=seen.shot) for name, seen in result.passes.items() if seen.shot
        )
    run.finished_at = timezone.now()
    run.digest = _digest(run)
    with transaction.atomic():
        run.save()
        audit_record(
            action=AuditEvent.SCAN_RECORDED,
            actor=actor,
            object_type="scanner.run",
            object_id=run.pk,
            # The site is in the run (and in its digest); an IP address in the audit data is refused.
            data={"status": run.status, "findings": len(found), "digest": run.digest},
        )
        new = _keys(found) - _keys(previous.findings if previous is not None else [])
        if new:
            _tell(run, len(new))
    log.info("scan %s of a declared site: %s, %s finding(s)", run.pk, run.status, len(found))
    return run


def _private_target(url: str) -> str:
    """Why a declared site must not be scanned by the worker, or "": another site of the company
    that resolves to a private, loopback or link-local address would let whoever edits the
    declaration point a browser (and its screenshots) at the server's own network. The public
    site itself (``VERN_PUBLIC_URL``) is always scanned."""
    parts = urlsplit(url)
    if origin_of(url) == origin_of(settings.VERN_PUBLIC_URL):
        return ""
    try:
        addresses = {str(info[4][0]) for info in socket.getaddrinfo(parts.hostname or "", parts.port or 443)}
    except OSError:
        return f"{parts.netloc} could not be resolved"
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved or ip.is_multicast:
            return f"{parts.netloc} is on a private network; the worker scans only public sites and vern's own"
    return ""


def _keys(found: list[dict[str, str]]) -> set[tuple[str, str, str]]:
    return {(f["rule"], f["pass_name"], f["subject"]) for f in found}


def _digest(run: ScanRun) -> str:
    body = {
        "url": run.url,
        "policy_version": run.policy_version,
        "status": run.status,
        "findings": run.findings,
        "counts": run.counts,
        "problems": run.problems,
        "finished_at": run.finished_at.isoformat() if run.finished_at else "",
    }
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def _tell(run: ScanRun, new: int) -> None:
    for person in active_holders(Role.PRIVACY_OFFICER):
        language = person.language if person.language in ("nb", "en") else "nb"
        emails.staff_scan_findings(
            to=person.email,
            language=language,
            site=run.url,
            count=new,
            link=settings.VERN_PUBLIC_URL + reverse("scanner_staff:run", kwargs={"pk": run.pk}),
        )


def scans_due(now: dt.datetime | None = None) -> list[tuple[str, str]]:
    """(site, trigger) for each declared site whose last scan is a day old, or older than the
    last publication of the policy."""
    now = now or timezone.now()
    if latest_version() is None:
        return []  # nothing to compare with yet
    published = PolicyVersion.objects.order_by("-number").values_list("published_at", flat=True).first()
    due: list[tuple[str, str]] = []
    for site in declared_sites():
        last = ScanRun.objects.filter(url=site).values_list("started_at", flat=True).first()
        if last is None or last <= now - EVERY:
            due.append((site, ScanRun.Trigger.SCHEDULE.value))
        elif published is not None and published > last:
            due.append((site, ScanRun.Trigger.PUBLISH.value))
    return due


def shots_forget(now: dt.datetime | None = None) -> int:
    """Delete the pictures of scans older than ``SHOTS_KEPT``; returns how many went."""
    cutoff = (now or timezone.now()) - SHOTS_KEPT
    deleted, _ = ScanShot.objects.filter(run__started_at__lt=cutoff).delete()
    return deleted
