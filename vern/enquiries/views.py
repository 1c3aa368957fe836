"""The contact and demo pages: the form, its notice, and the thank-you page."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_safe

from vern.declaration.selectors import declaration_of, latest_version_for
from vern.enquiries import tokens
from vern.enquiries.forms import EnquiryForm
from vern.enquiries.intake import body_too_large, problem_message, take
from vern.enquiries.models import Enquiry
from vern.enquiries.selectors import collection_notice
from vern.lib.ip import client_ip_shortened
from vern.lib.language import page_language
from vern.lib.origins import caller_origin
from vern.registry import surface


def render_form(
    request: HttpRequest, *, kind: str, form: EnquiryForm | None = None, problem: str = "", status: int = 200
) -> HttpResponse:
    """The form page; every rendering carries a fresh one-time token, and keeps what was typed."""
    version = latest_version_for(request)
    declaration = declaration_of(version) if version is not None else None
    language = page_language()
    token = tokens.issue(kind)
    if form is None:
        form = EnquiryForm(kind=kind, initial={"token": token}, newsletter_prompt=surface.subscription_prompt(language))
    else:
        # The token the visitor already has stays while it is good: its clock keeps running,
        # so fixing a typo quickly is not "too fast".
        try:
            tokens.check(str(form.data.get("token", "")), kind, min_seconds=float("-inf"))
            token = str(form.data["token"])
        except tokens.TokenProblem:
            pass
        data = QueryDict(mutable=True)
        data.update(form.data)
        data["token"] = token
        data["website"] = ""  # a browser that filled the hidden field once would do it again
        form.data = data
    context = {
        "kind": kind,
        "form": form,
        "problem": problem_message(problem, declaration) if problem else "",
        "notice": collection_notice(declaration, kind, language) if declaration is not None else None,
        "unavailable": declaration is None,
        "action": reverse(f"enquiries:{kind}"),
    }
    return render(request, "enquiries/form.html", context, status=status)


def _form_view(request: HttpRequest, kind: str) -> HttpResponse:
    if request.method != "POST":
        return render_form(request, kind=kind)
    # No CSRF cookie: a visitor who blocks cookies can still write to us. Forgery is stopped
    # by the origin (only this site's pages may post here) and the signed one-time token.
    if caller_origin(request, []) is None:
        return render_form(request, kind=kind, problem="origin", status=403)
    if body_too_large(request):  # checked before the body is read
        return render_form(request, kind=kind, problem="too_large", status=413)
    language = page_language()
    prompt = surface.subscription_prompt(language)
    form = EnquiryForm(request.POST, kind=kind, newsletter_prompt=prompt)
    outcome = take(request, form, kind=kind, channel=Enquiry.Channel.FORM, language=language)
    if outcome.received is None:
        status = 400 if outcome.status == 422 else outcome.status
        return render_form(request, kind=kind, form=form, problem=outcome.problem, status=status)
    if prompt and form.cleaned_data.get("newsletter"):
        # A separate consent, after the enquiry is stored: its fate never touches the enquiry.
        surface.subscription_offer(
            {
                "email": form.cleaned_data["email"],
                "name": form.cleaned_data["name"],
                "language": language,
                "form": kind,
                "ip_shortened": client_ip_shortened(request),
                "prompt": prompt,
            }
        )
    return HttpResponseRedirect(reverse(f"enquiries:{kind}_thanks"), status=303)


@csrf_exempt
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def contact(request: HttpRequest) -> HttpResponse:
    return _form_view(request, Enquiry.Kind.CONTACT)


@csrf_exempt
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def demo(request: HttpRequest) -> HttpResponse:
    return _form_view(request, Enquiry.Kind.DEMO)


@require_safe
def contact_thanks(request: HttpRequest) -> HttpResponse:
    return _thanks(request, Enquiry.Kind.CONTACT)


@require_safe
def demo_thanks(request: HttpRequest) -> HttpResponse:
    return _thanks(request, Enquiry.Kind.DEMO)


def _thanks(request: HttpRequest, kind: str) -> HttpResponse:
    version = latest_version_for(request)
    declaration = declaration_of(version) if version is not None else None
    notice = collection_notice(declaration, kind, page_language()) if declaration is not None else None
    return render(request, "enquiries/thanks.html", {"kind": kind, "notice": notice})
