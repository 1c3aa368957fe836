"""The beacon as a Django view (the WSGI front answers it first in production), and the no-script image.

Both answer with an empty body: a refused hit gets its status (400, 403, 413,
422, 429) and nothing else, so the endpoint tells a prober nothing about why.
"""

from __future__ import annotations

import base64

from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from pydantic import ValidationError

from vern.analytics import capture
from vern.analytics.collector import cookie_header, request_of
from vern.analytics.models import Dropped, Hit
from vern.analytics.schemas import COUNT_EVENT, COUNT_PIXEL, MAX_BODY, PixelQuery
from vern.lib.bodies import BodyRefused, request_body
from vern.lib.openapi import documented

# A transparent 1×1 GIF, the smallest image every browser shows without complaint.
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


def _answer(response: HttpResponse, accepted: capture.Accepted | None) -> HttpResponse:
    patch_cache_control(response, no_store=True)
    if accepted is not None and accepted.set_cookie is not None:
        response.headers["Set-Cookie"] = cookie_header(*accepted.set_cookie)
    return response


@csrf_exempt  # no cookie authenticates it; the origin check and the payload checks guard it
@require_http_methods(["POST"])
@documented(COUNT_EVENT)
def event(request: HttpRequest) -> HttpResponse:
    """``POST /api/analytics/event``: a page view or engaged time, as ``beacon.js`` sends it."""
    try:
        body = request_body(request, MAX_BODY)
    except BodyRefused as refused:  # larger than a beacon may be (drained, not kept)
        capture.count_refused(Dropped.Reason.INVALID)
        return _answer(HttpResponse(status=refused.status), None)
    try:
        accepted = capture.accept(request_of(request.META, body, request.COOKIES))
    except capture.Refused as refused:
        return _answer(HttpResponse(status=refused.status), None)
    return _answer(HttpResponse(status=204), accepted)


@csrf_exempt  # it changes nothing a cookie guards; any method but GET and HEAD gets 405, not the CSRF 403
@require_http_methods(["GET", "HEAD"])
@documented(COUNT_PIXEL)
def pixel(request: HttpRequest) -> HttpResponse:
    """``GET /api/analytics/pixel.gif?u=<path>&r=<referrer>``: a page view from a page without JavaScript.

    The page puts this image in ``<noscript>``, so a browser that runs the beacon never loads it.
    There is no engaged time without a script; the visit's duration comes from its later hits.
    """
    try:
        query = PixelQuery.model_validate({key: request.GET[key] for key in request.GET})
        beacon = capture.check_beacon("v", query.u, query.r, 0)
    except ValidationError:
        capture.count_refused(Dropped.Reason.INVALID)
        return _answer(HttpResponse(status=400), None)
    except capture.Refused as refused:
        capture.count_refused(refused.reason)
        return _answer(HttpResponse(status=refused.status), None)
    try:
        accepted = capture.accept(
            request_of(request.META, b"", request.COOKIES), source=Hit.Source.NO_SCRIPT, beacon=beacon
        )
    except capture.Refused as refused:
        return _answer(HttpResponse(status=refused.status), None)
    return _answer(HttpResponse(PIXEL, content_type="image/gif"), accepted)
