"""vern's URLs plus pages that break the consent rules, for the scanner's tests."""

from __future__ import annotations

from csp.decorators import csp_exempt
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template import engines
from django.urls import path

from vern.urls import urlpatterns as vern_urlpatterns

# Set by the test: the origin of another site (another port), standing in for a tracker.
OTHER = {"origin": "http://127.0.0.1:9"}

BAD = """{% extends "base.html" %}{% block content %}<section class="page"><div class="wrap">
<h1>A page that does not wait</h1>
<img src="{{ other }}/pixel.gif" alt="">
<script nonce="{{ request.csp_nonce }}">localStorage.setItem("tracker_state", "1");</script>
<p><a href="/scan-bad/bare/">Another page</a></p>
</div></section>{% endblock %}"""

# A banner of its own, as some sites have: a pre-ticked toggle, and a Reject that is smaller.
PRETICKED = """<!doctype html><html lang="en"><head><title>Pre-ticked</title></head><body>
<div id="vc-banner"><p>We use cookies.</p>
<button value="accept_all" style="font-weight:700;padding:12px 24px">Accept all</button>
<button value="reject_all" style="font-size:11px;color:#ccc;background:#fff">Reject all</button>
<button data-vc-open onclick="document.getElementById('s').hidden=false">Settings</button></div>
<form class="vc-settings" id="s" hidden><label><input type="checkbox" name="categories" value="marketing" checked>
Marketing</label></form></body></html>"""


@csp_exempt()
def bad(request: HttpRequest) -> HttpResponse:
    html = engines["django"].from_string(BAD).render({"other": OTHER["origin"]}, request)
    response = HttpResponse(html)
    response.set_cookie("tracker_id", "42", max_age=400 * 86400)
    return response


def bare(request: HttpRequest) -> HttpResponse:
    return HttpResponse("<!doctype html><html lang='en'><title>Bare</title><p>No way back.</p></html>")


def preticked(request: HttpRequest) -> HttpResponse:
    return HttpResponse(PRETICKED)


def slow(request: HttpRequest) -> HttpResponse:
    import time

    time.sleep(12)  # longer than the scan may take
    return HttpResponse("<!doctype html><title>Slow</title>")


HOSTILE = """<!doctype html><html lang="en"><title>Hostile</title><script>
for (let n = 0; ; n++) { document.cookie = "c" + n + "=" + "x".repeat(3000) + "; path=/"; }
</script></html>"""


@csp_exempt()
def hostile(request: HttpRequest) -> HttpResponse:
    """Endless cookies, from a script that never ends."""
    return HttpResponse(HOSTILE)


def loop(request: HttpRequest) -> HttpResponse:
    return HttpResponseRedirect("/scan-loop/")


def away(request: HttpRequest) -> HttpResponse:
    return HttpResponseRedirect(OTHER["origin"] + "/")


urlpatterns = [
    path("scan-slow/", slow),
    path("scan-loop/", loop),
    path("scan-hostile/", hostile),
    path("scan-away/", away),
    path("scan-bad/", bad),
    path("scan-bad/bare/", bare),
    path("scan-preticked/", csp_exempt()(preticked)),
    *vern_urlpatterns,
]
