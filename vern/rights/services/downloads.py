"""The single-use links a person fetches their access or portability package by (R14, R18).

A link is offered once the request is confirmed (or again by staff); the package is
built only when the link is opened, so it holds the data as it is then and no copy
waits anywhere. A link works once, for seven days.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from vern.accounts.models import User
from vern.audit.events import AuditEvent
from vern.audit.services import Actor, audit_record
from vern.declaration.schema import Declaration
from vern.declaration.selectors import published_declaration
from vern.mail import emails
from vern.rights.models import Download, Event, Request
from vern.rights.packages.rendering import access_package, portability_package
from vern.rights.services.steps import RequestRefused, mark_done, status_link
from vern.rights.services.tokens import new_token, token_hashes
from vern.rights.texts import public_link, reference_of

DOWNLOAD_HOURS = 168  # a download link works for seven days, once
_COMPANY_FORMS = re.compile(r"-(as|asa|sa|ab|oy|aps|gmbh|ag|ltd|llc|inc|bv|nv)$")

BUILDERS: dict[str, Callable[[Request], bytes]] = {
    Download.Kind.ACCESS: access_package,
    Download.Kind.PORTABILITY: portability_package,
}


def download_offer(request: Request, *, kind: str, actor: Actor, staff: User | None) -> Download:
    """Offer the package through a single-use link that expires; the mail only says it is ready.

    The package is built when the link is opened, so it holds the data as it is then. Runs in
    the caller's transaction: the link, the mail, the timeline and the audit row go together.
    """
    if kind not in BUILDERS:
        raise RequestRefused("kind", f"there is no {kind!r} package")
    if kind not in request.rights:
        raise RequestRefused("right", f"the request does not ask for {kind}")
    if not request.email:
        raise RequestRefused("no_address", "there is no address to send the link to")
    if request.status in (Request.Status.REFUSED, Request.Status.LAPSED, Request.Status.AWAITING_CONFIRMATION):
        raise RequestRefused("closed", "a request that is refused, lapsed or unconfirmed hands out no copy")
    token, hashed = new_token()
    now = timezone.now()
    expires_at = now + dt.timedelta(hours=DOWNLOAD_HOURS)
    with transaction.atomic():
        download = Download.objects.create(
            request=request, kind=kind, token_hash=hashed, created_at=now, expires_at=expires_at
        )
        emails.rights_download_ready(
            to=request.email,
            language=request.language,
            link=public_link("rights:download", request.language, token=token),
            expires_hours=DOWNLOAD_HOURS,
            kind=kind,
            status_link=status_link(request),
        )
        Event.objects.create(
            request=request,
            kind="download_offered",
            actor=staff,
            data={"package": kind, "expires_at": expires_at.astimezone(dt.UTC).isoformat(timespec="seconds")},
        )
        mark_done(request, kind, actor=actor, staff=staff, package=kind)
    return download


def package_filename(declaration: Declaration | None, download: Download) -> str:
    """``kaukus-access-R-12.zip``: the controller, the kind of package, the request's reference."""
    name = slugify(declaration.controller.name) if declaration is not None else ""
    name = _COMPANY_FORMS.sub("", name) or "vern"
    return f"{name}-{download.kind}-{reference_of(download.request)}.zip"


def download_open(token: str) -> tuple[Download, bytes, str]:
    """Open a download link: the package, built now, and its file name. The link then is used up.

    Raises ``RequestRefused`` with "invalid" (forged, or never issued), "used" (opened before)
    or "expired". If building fails, the link is not used up (it all rolls back).
    """
    if not token or len(token) > 100:
        raise RequestRefused("invalid")
    hashed = token_hashes(token)
    with transaction.atomic():
        download = Download.objects.select_related("request").filter(token_hash__in=hashed).first()
        if download is None:
            raise RequestRefused("invalid")
        if download.downloaded_at is not None:
            raise RequestRefused("used")
        now = timezone.now()
        if download.request.status == Request.Status.REFUSED:
            raise RequestRefused("expired")  # a refused request hands out nothing
        if download.expires_at <= now:
            raise RequestRefused("expired")
        # Claimed by a conditional update, so two clicks at once cannot both get the package.
        if not Download.objects.filter(pk=download.pk, downloaded_at__isnull=True).update(downloaded_at=now):
            raise RequestRefused("used")
        download.downloaded_at = now
        request = download.request
        content = BUILDERS[download.kind](request)
        Event.objects.create(request=request, kind="downloaded", data={"package": download.kind})
        audit_record(
            action=AuditEvent.RIGHTS_DOWNLOADED,
            actor=Actor.visitor(),
            object_type="rights.request",
            object_id=request.pk,
            subject_key=request.subject_key,
            data={"package": download.kind, "download": download.pk},
        )
    return download, content, package_filename(published_declaration(), download)
