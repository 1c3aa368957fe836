"""vern's URLs plus a page with gated scripts, for the browser tests of blocking and withdrawal."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.template import engines
from django.urls import path

from vern.urls import urlpatterns as vern_urlpatterns

PAGE = """{% extends "base.html" %}{% load consent %}{% block content %}<section class="page"><div class="wrap">
<h1>Blocking test</h1>
<script type="text/plain" data-consent="statistics" nonce="{{ request.csp_nonce }}">
window.statsRan = (window.statsRan || 0) + 1; document.cookie = "vern_visits=1; path=/; max-age=3600";
</script>
{% consent_block "statistics" %}<p id="gated">Counted</p>
<script nonce="{{ request.csp_nonce }}">window.blockRan = true;</script>{% end_consent_block %}
</div></section>{% endblock %}"""


def page(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(engines["django"].from_string(PAGE).render({}, request))
    if request.consent.allows("statistics"):
        response.set_cookie("vern_visits_server", "1", max_age=3600, httponly=True, samesite="Lax")
    return response


urlpatterns = [path("consent-test/", page), *vern_urlpatterns]
