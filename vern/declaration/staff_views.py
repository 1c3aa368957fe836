"""The privacy officer's view of the declaration: what is published, what the draft would change."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy, gettext_noop
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from vern.accounts.access import require_capability, staff_view
from vern.accounts.roles import Capability
from vern.accounts.steps import staff_step
from vern.audit.services import Actor
from vern.declaration import changes, editor, ropa, selectors, services
from vern.declaration.changes import LanguageChanges
from vern.declaration.loading import DeclarationInvalid, Problem, parse
from vern.declaration.models import PolicyVersion
from vern.declaration.rules import ChecklistItem, art13_checklist
from vern.lib.wording import Wording

LANGUAGES = [("nb", "Norsk bokmål"), ("en", "English")]


@dataclass
class DraftState:
    """What the overview says of a draft (the console's, or the file's): its problems, the texts
    changed in one language only, the Art. 13 checklist, and what publishing would change."""

    problems: list[str] = field(default_factory=list)
    one_language: list[dict[str, str]] = field(default_factory=list)
    checklist: list[ChecklistItem] = field(default_factory=list)
    changes: list[LanguageChanges] | None = None  # None: the draft cannot be read as a declaration
    unchanged: bool = False


def _state(
    request: HttpRequest, source: str, content: dict[str, Any] | None, current: PolicyVersion | None
) -> DraftState:
    state = DraftState()

    def shown(problems: list[Problem]) -> list[str]:
        # A file's problems name its lines; a draft in the database has none to look up.
        if content is None:
            return [_in_file(problem) for problem in problems]
        return [editor.problem_line(content, problem) for problem in problems]

    try:
        loaded = parse(source)
    except DeclarationInvalid as exc:
        state.problems = shown(exc.problems)
        return state
    declaration = loaded.declaration
    try:
        services.declaration_validate(source)
    except DeclarationInvalid as exc:
        state.problems = shown(exc.problems)
    else:
        state.checklist = art13_checklist(declaration)
    if current is None:
        return state
    published = PolicyVersion.objects.get(pk=current.pk)
    draft_content = content if content is not None else declaration.model_dump(mode="json")
    state.unchanged = declaration.model_dump(mode="json") == published.content
    state.one_language = [
        {"where": editor.describe(draft_content, change.loc), "text": editor.warning_text(change)}
        for change in editor.one_language_changes(published.content, draft_content)
    ]
    shown_as = PolicyVersion(number=published.number + 1, published_at=timezone.now())
    state.changes = changes.version_changes(published, shown_as, LANGUAGES, request, new_declaration=declaration)
    return state


def _in_file(problem: Problem) -> str:
    """A problem of the declaration file, with its place and line, in the reader's language."""
    where = problem.path or _("declaration")
    if problem.line:
        where = _("%(place)s (line %(line)s)") % {"place": where, "line": problem.line}
    return f"{where}: {problem.localised()}"


def _file_source() -> tuple[str | None, list[Problem]]:
    path = Path(settings.VERN_DECLARATION)
    try:
        return path.read_text(encoding="utf-8"), []
    except OSError as exc:
        unreadable = Wording.of(
            gettext_noop("cannot read %(path)s: %(reason)s"), path=str(path), reason=exc.strerror or type(exc).__name__
        )
        return None, [Problem.worded("", None, unreadable)]
    except UnicodeDecodeError:
        return None, [Problem.worded("", None, Wording.of(gettext_noop("%(path)s is not UTF-8 text"), path=str(path)))]


@staff_view(Capability.MANAGE_DECLARATION)
@require_http_methods(["GET", "HEAD"])
def overview(request: HttpRequest) -> HttpResponse:
    current = selectors.latest_version()
    context: dict[str, Any] = {
        "current": current,
        "in_file": settings.VERN_DECLARATION_IN_FILE,
        "versions": selectors.all_versions()[:10],
        "parts": PARTS,
    }
    if settings.VERN_DECLARATION_IN_FILE:
        source, problems = _file_source()
        context["path"] = settings.VERN_DECLARATION
        context["state"] = (
            _state(request, source, None, current)
            if source is not None
            else DraftState([_in_file(problem) for problem in problems])
        )
        context["has_draft"] = source is not None
    else:
        draft = selectors.current_draft()
        context["draft"] = draft
        context["has_draft"] = draft is not None
        if draft is not None:
            context["state"] = _state(request, editor.as_source(draft.content), draft.content, current)
            context["stale"] = current is not None and draft.based_on_id != current.pk
    return render(request, "declaration/staff_overview.html", context)


@staff_view(Capability.MANAGE_DECLARATION, reauth=True)
@require_POST
def publish(request: HttpRequest) -> HttpResponse:
    significant = request.POST.get("significant") == "yes"
    note = request.POST.get("note", "")[:2000]
    actor = Actor.from_request(request)

    def publish_file() -> PolicyVersion:
        source = Path(settings.VERN_DECLARATION).read_text(encoding="utf-8")
        return services.declaration_publish(source=source, actor=actor, significant=significant, note=note)

    def publish_draft() -> PolicyVersion:
        draft = selectors.current_draft()
        if draft is None:
            raise services.DraftRefused("no_draft", _("There is no draft to publish."))
        return services.draft_publish(
            draft=draft,
            actor=actor,
            significant=significant,
            note=note,
            languages_checked=request.POST.get("languages_checked") == "yes",
            revision=_revision(request),
        )

    return staff_step(
        request,
        publish_file if settings.VERN_DECLARATION_IN_FILE else publish_draft,
        refused=(DeclarationInvalid, OSError, UnicodeDecodeError, services.NothingChanged, services.DraftRefused),
        informative=(services.NothingChanged,),
        explain=_not_published,
        done=lambda version: _("Version %(number)s is published.") % {"number": version.number},
        then=reverse("declaration_staff:overview"),
        redirect_status=302,
    )


def _revision(request: HttpRequest) -> int | None:
    """The draft's revision the publishing officer looked at (the page sends it); an unreadable one
    matches no draft. None when the form did not say."""
    if "revision" not in request.POST:
        return None
    value = request.POST["revision"]
    return int(value) if re.fullmatch(r"[0-9]{1,9}", value) else -1


def _not_published(refused: Exception) -> str:
    if isinstance(refused, services.NothingChanged):
        return _("The draft is the same as the published version; nothing was published.")
    if isinstance(refused, services.DraftRefused):
        return str(refused)
    return _("The draft has problems and was not published. Nothing changed.")


# ------------------------------------------------------------------ the editor

PARTS = [("texts", gettext_lazy("Texts"))] + [(table.key, table.title) for table in editor.TABLES.values()]


@staff_view(Capability.MANAGE_DECLARATION)
@require_POST
def draft_start(request: HttpRequest) -> HttpResponse:
    user = require_capability(request, Capability.MANAGE_DECLARATION)
    return staff_step(
        request,
        lambda: services.draft_start(user=user),
        refused=services.DraftRefused,
        done=_(
            "The draft is a copy of the published version. Edit it part by part; nothing is public until you publish."
        ),
        then=reverse("declaration_staff:edit", args=["texts"]),
    )


@staff_view(Capability.MANAGE_DECLARATION)
@require_POST
def draft_discard(request: HttpRequest) -> HttpResponse:
    user = require_capability(request, Capability.MANAGE_DECLARATION)

    def discard() -> None:
        draft = selectors.current_draft()
        if draft is not None:
            services.draft_discard(draft=draft, user=user)

    return staff_step(
        request,
        discard,
        done=_("The draft was thrown away. The published version is unchanged."),
        then=reverse("declaration_staff:overview"),
    )


@staff_view(Capability.MANAGE_DECLARATION)
@require_http_methods(["GET", "HEAD", "POST"])
def edit(request: HttpRequest, part: str) -> HttpResponse:
    """One part of the draft: the texts, or a table; saved only when the whole declaration passes
    the checks of ``vern declaration check`` for what this part holds."""
    if part != "texts" and part not in editor.TABLES:
        raise Http404
    draft = selectors.current_draft()
    context: dict[str, Any] = {"part": part, "parts": PARTS, "in_file": settings.VERN_DECLARATION_IN_FILE}
    if settings.VERN_DECLARATION_IN_FILE or draft is None:
        status = 409 if request.method == "POST" else 200
        return render(request, "declaration/staff_edit.html", {**context, "closed": True}, status=status)
    user = require_capability(request, Capability.MANAGE_DECLARATION)
    data = request.POST if request.method == "POST" else None
    base = draft.based_on.content if draft.based_on is not None else draft.content
    table = editor.TABLES.get(part)
    top: list[str] = []  # why nothing was saved, when it is not about a field of this part
    elsewhere: list[str] = []  # problems in other parts of the draft
    status = 200
    form: Any
    if table is None:
        form = editor.TextsForm(data, content=draft.content)
    else:
        form = editor.table_formset(table, draft.content, data, add_row="add" in request.POST)
    if data is not None and "add" not in request.POST and form.is_valid():
        if table is None:
            content = form.with_texts()
        else:
            content = table.with_rows(draft.content, editor.table_rows(form))
        problems = _problems(content)
        warnings = editor.one_language_changes(base, content)
        if table is None:
            rest = editor.place_on_texts(form, problems, warnings)
        else:
            rest = editor.place_on_table(form, problems, warnings)
        mine = len(rest) < len(problems)
        if mine:
            elsewhere = [editor.problem_line(content, problem) for problem in rest]
            status = 400
        else:
            try:
                revision = int(request.POST.get("revision", "0"))
                services.draft_save(draft=draft, content=content, revision=revision, user=user, part=part)
            except (ValueError, services.DraftRefused) as exc:
                top = [str(exc)]
                status = 409
            else:
                messages.success(request, _("Saved. The draft is not published yet."))
                if rest:
                    messages.warning(
                        request,
                        _("Other parts of the draft still have %(count)s problem(s); the overview lists them.")
                        % {"count": len(rest)},
                    )
                return HttpResponseRedirect(reverse("declaration_staff:edit", args=[part]), status=303)
    elif data is not None and "add" in request.POST:
        form.is_valid()  # show the rows as typed; the new one is empty and nothing is saved
    else:
        warnings = editor.one_language_changes(base, draft.content)
        if table is None:
            editor.place_on_texts(form, [], warnings)
        else:
            editor.place_on_table(form, [], warnings)
    return render(
        request,
        "declaration/staff_edit.html",
        {
            **context,
            "draft": draft,
            "form": form,
            "table": table,
            "top": top,
            "elsewhere": elsewhere,
        },
        status=status,
    )


def _problems(content: dict[str, Any]) -> list[Problem]:
    try:
        services.declaration_validate(editor.as_source(content))
    except DeclarationInvalid as exc:
        return exc.problems
    return []


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
