"""Mailings for marketing and administrators: write in Bokmål and English, preview, test, send; counts."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from vern.accounts.access import require_capability, staff_view
from vern.accounts.roles import Capability
from vern.accounts.steps import staff_step
from vern.declaration.schema import Declaration
from vern.declaration.selectors import declaration_of, latest_version
from vern.lib.language import page_language
from vern.newsletter import selectors, services
from vern.newsletter.forms import MailingForm
from vern.newsletter.models import Mailing, Subscription
from vern.newsletter.services import SubscriptionRefused


def _declaration() -> Declaration:
    version = latest_version()
    if version is None:
        raise Http404(_("No privacy policy is published yet."))
    return declaration_of(version)


def get_mailing_for_staff(request: HttpRequest, pk: int) -> Mailing:
    require_capability(request, Capability.SEND_NEWSLETTER)
    return get_object_or_404(Mailing, pk=pk)


@staff_view(Capability.SEND_NEWSLETTER)
@require_http_methods(["GET", "HEAD", "POST"])
def mailings(request: HttpRequest) -> HttpResponse:
    staff = require_capability(request, Capability.SEND_NEWSLETTER)
    declaration = _declaration()
    form = MailingForm(request.POST or None, declaration=declaration, language=page_language())
    status = 200
    if request.method == "POST":
        if form.is_valid():
            mailing = services.mailing_create(staff=staff, **form.cleaned_data)
            return staff_step(
                request,
                lambda: mailing,
                done=_("The mailing is saved. Look at the preview and send yourself a test."),
                then=reverse("newsletter_staff:mailing", kwargs={"pk": mailing.pk}),
            )
        status = 400
    topics = {topic.id: topic.name.get(page_language()) for topic in declaration.newsletter.topics}
    rows = [
        (mailing, selectors.mailing_counts(mailing), topics.get(mailing.topic, mailing.topic))
        for mailing in Mailing.objects.order_by("-created_at")[:50]
    ]
    context = {
        "form": form,
        "rows": rows,
        "subscribers": Subscription.objects.filter(status=Subscription.Status.CONFIRMED).count(),
    }
    return render(request, "newsletter/staff_mailings.html", context, status=status)


@staff_view(Capability.SEND_NEWSLETTER)
@require_http_methods(["GET", "HEAD"])
def mailing(request: HttpRequest, pk: int) -> HttpResponse:
    found = get_mailing_for_staff(request, pk)
    declaration = _declaration()
    topic = declaration.newsletter.topic(found.topic)
    context = {
        "mailing": found,
        "topic": topic.name.get(page_language()) if topic is not None else found.topic,
        "counts": selectors.mailing_counts(found),
        "previews": [(language, services.mailing_preview(found, language)) for language in ("nb", "en")],
    }
    return render(request, "newsletter/staff_mailing.html", context)


@staff_view(Capability.SEND_NEWSLETTER)
@require_POST
def mailing_test(request: HttpRequest, pk: int) -> HttpResponse:
    staff = require_capability(request, Capability.SEND_NEWSLETTER)
    found = get_mailing_for_staff(request, pk)
    return staff_step(
        request,
        lambda: services.mailing_test_send(found, staff=staff),
        done=_("A test is on its way to your own address."),
        then=reverse("newsletter_staff:mailing", kwargs={"pk": found.pk}),
    )


@staff_view(Capability.SEND_NEWSLETTER, reauth=True)
@require_POST
def mailing_send(request: HttpRequest, pk: int) -> HttpResponse:
    staff = require_capability(request, Capability.SEND_NEWSLETTER)
    found = get_mailing_for_staff(request, pk)
    return staff_step(
        request,
        lambda: services.mailing_start(found, staff=staff),
        done=_("The mailing is going out to confirmed subscribers, in batches."),
        then=reverse("newsletter_staff:mailing", kwargs={"pk": found.pk}),
        refused=SubscriptionRefused,
        explain=lambda exc: _("This mailing has been sent already."),
    )
