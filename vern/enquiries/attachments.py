"""Downloading a mailed attachment from the console (docs/mailbox.md).

An attachment came from anyone who can send mail: it is never shown inline in the console's
origin. It is sent as a download (``Content-Disposition: attachment``) with a file name made
safe and encoded as RFC 6266 and RFC 5987 say, as ``application/octet-stream`` unless its type
is one of a few that browsers do not run (``SAFE_TYPES``), with ``nosniff``, ``no-store`` and a
policy that lets it load nothing. Each download is audited: who, which attachment of which
enquiry, its type and size; not its name, which may itself say something about the person.
"""

from __future__ import annotations

import base64
import re
import unicodedata
from urllib.parse import quote

from django.http import Http404, HttpResponse

from vern.accounts.models import User
from vern.audit.events import AuditEvent
from vern.audit.services import Actor
from vern.enquiries.models import Enquiry, MailboxAttachment
from vern.enquiries.services import enquiry_audit

SAFE_TYPES = frozenset({"application/pdf", "image/png", "image/jpeg", "image/gif", "text/plain"})
POLICY = "default-src 'none'; frame-ancestors 'none'; form-action 'none'; base-uri 'none'; sandbox"
# Letters with no ASCII part to fall back on, written as Norwegian and German spell them without.
_SPELLED = str.maketrans({"æ": "ae", "Æ": "Ae", "ø": "o", "Ø": "O", "ß": "ss", "đ": "d", "Đ": "D"})
_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]+")


def attachment_for_download(*, staff: User, enquiry: Enquiry, attachment_pk: int) -> MailboxAttachment:
    """The attachment of this enquiry, recorded as downloaded by ``staff``; 404 when the enquiry
    has no such attachment (another enquiry's, or one retention or an erasure removed)."""
    found = MailboxAttachment.objects.filter(pk=attachment_pk, enquiry=enquiry, message__enquiry=enquiry).first()
    if found is None:
        raise Http404
    enquiry_audit(
        AuditEvent.ENQUIRY_ATTACHMENT_DOWNLOADED,
        enquiry,
        actor=Actor.staff(staff),
        data={"attachment": found.pk, "mail": found.message_id, "type": found.content_type, "size": found.size},
    )
    return found


def ascii_filename(name: str) -> str:
    """A plain ASCII stand-in for the name (the ``filename=`` fallback): accents dropped, anything
    else that is not a letter, digit, dot, dash, underscore or space replaced by ``_``."""
    spelled = name.translate(_SPELLED)
    folded = unicodedata.normalize("NFKD", spelled).encode("ascii", "ignore").decode("ascii")
    cleaned = _UNSAFE.sub("_", folded).strip(" .")
    return cleaned[:120] or "attachment"


def _unicode_filename(name: str) -> str:
    """The real name without path parts, control characters or line breaks, for ``filename*=``."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip(" .")
    return name[:200] or "attachment"


def content_disposition(name: str) -> str:
    """``attachment`` with both an ASCII ``filename`` and the UTF-8 ``filename*`` (RFC 6266, 5987)."""
    real = _unicode_filename(name)
    return f"attachment; filename=\"{ascii_filename(real)}\"; filename*=UTF-8''{quote(real, safe='')}"


def download_response(found: MailboxAttachment) -> HttpResponse:
    content = base64.b64decode(found.content)
    kind = found.content_type.split(";", 1)[0].strip().lower()
    response = HttpResponse(content, content_type=kind if kind in SAFE_TYPES else "application/octet-stream")
    response["Content-Disposition"] = content_disposition(found.filename)
    response["Content-Length"] = str(len(content))
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    # The site's own policy is replaced, not widened: the file may load and run nothing.
    response._csp_exempt = True  # type: ignore[attr-defined]
    response["Content-Security-Policy"] = POLICY
    return response
