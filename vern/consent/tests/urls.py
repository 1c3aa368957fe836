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
<script type="text/plain" data-consent="marketing" nonce="{{ request.csp_nonce }}">window.mktRan = true;</script>
{% consent_block "marketing" %}<img id="pixel" src="https://pixel.example/p.gif" alt="">{% end_consent_block %}
{% consent_embed "marketing" src="https://video.example/embed/1" title="Demo video" provider="Video" %}
{% consent_block "statistics" %}<p id="gated">Counted</p>
<script nonce="{{ request.csp_nonce }}">window.blockRan = true;
setInterval(function () { window.beats = (window.beats || 0) + 1; }, 50);</script>{% end_consent_block %}
</div></section>{% endblock %}"""


def page(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(engines["django"].from_string(PAGE).render({}, request))
    if request.consent.allows("statistics"):
        response.set_cookie("vern_visits_server", "1", max_age=3600, httponly=True, samesite="Lax")
    return response


urlpatterns = [path("consent-test/", page), *vern_urlpatterns]
