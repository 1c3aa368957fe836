"""The privacy officer's view of the declaration: what is published, what the draft would change."""

from __future__ import annotations

import difflib
from pathlib import Path

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from vern.accounts.access import staff_view
from vern.accounts.roles import Capability
from vern.accounts.steps import staff_step
from vern.audit.services import Actor
from vern.declaration import ropa, selectors, services
from vern.declaration.loading import DeclarationInvalid, Problem
from vern.declaration.models import PolicyVersion
from vern.declaration.rules import art13_checklist


def _draft() -> tuple[str | None, list[Problem], list[object]]:
    """The draft's text, its problems, and its Art. 13 checklist."""
    path = Path(settings.VERN_DECLARATION)
    try:
        source = path.read_text(encoding="utf-8")
    except OSError as exc:
        return None, [Problem("", None, f"cannot read {path}: {exc.strerror}")], []
    except UnicodeDecodeError:
        return None, [Problem("", None, f"{path} is not UTF-8 text")], []
    try:
        loaded = services.declaration_validate(source)
    except DeclarationInvalid as exc:
        return source, exc.problems, []
    return source, [], list(art13_checklist(loaded.declaration))


@staff_view(Capability.MANAGE_DECLARATION)
@require_http_methods(["GET", "HEAD"])
def overview(request: HttpRequest) -> HttpResponse:
    current = selectors.latest_version()
    source, problems, checklist = _draft()
    diff: list[str] = []
    if source is not None and current is not None:
        diff = list(
            difflib.unified_diff(
                current.source.splitlines(),
                source.splitlines(),
                f"version {current.number}",
                "draft",
                lineterm="",
                n=2,
            )
        )
    return render(
        request,
        "declaration/staff_overview.html",
        {
            "current": current,
            "path": settings.VERN_DECLARATION,
            "problems": problems,
            "checklist": checklist,
            "diff": diff,
            "unchanged": current is not None and source == current.source,
            "versions": selectors.all_versions()[:10],
        },
    )


@staff_view(Capability.MANAGE_DECLARATION, reauth=True)
@require_POST
def publish(request: HttpRequest) -> HttpResponse:
    def publish_draft() -> PolicyVersion:
        source = Path(settings.VERN_DECLARATION).read_text(encoding="utf-8")
        return services.declaration_publish(
            source=source,
            actor=Actor.from_request(request),
            significant=request.POST.get("significant") == "yes",
            note=request.POST.get("note", "")[:2000],
        )

    return staff_step(
        request,
        publish_draft,
        refused=(DeclarationInvalid, OSError, UnicodeDecodeError, services.NothingChanged),
        informative=(services.NothingChanged,),
        explain=_not_published,
        done=lambda version: _("Version %(number)s is published.") % {"number": version.number},
        then=reverse("declaration_staff:overview"),
        redirect_status=302,
    )


def _not_published(refused: Exception) -> str:
    if isinstance(refused, services.NothingChanged):
        return _("The draft is the same as the published version; nothing was published.")
    return _("The draft has problems and was not published. Nothing changed.")


@staff_view(Capability.MANAGE_DECLARATION)
@require_http_methods(["GET", "HEAD"])
def record(request: HttpRequest) -> HttpResponse:
    declaration = selectors.published_declaration()
    language = "en" if (get_language() or "nb").startswith("en") else "nb"
    if declaration is None:
        return render(request, "declaration/staff_record.html", {"record": None})
    built = ropa.build(declaration, language)
    fmt = request.GET.get("format", "")
    if fmt in ("md", "csv", "json"):
        body = {
            "md": lambda: ropa.as_markdown(built, language),
            "csv": lambda: ropa.as_csv(built),
            "json": lambda: ropa.as_json(built),
        }[fmt]()
        content_type = {"md": "text/markdown", "csv": "text/csv", "json": "application/json"}[fmt]
        response = HttpResponse(body, content_type=f"{content_type}; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="record-of-processing-{language}.{fmt}"'
        return response
    return render(request, "declaration/staff_record.html", {"record": built})
