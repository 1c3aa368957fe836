"""Sessions whose sign-in was ended elsewhere are logged out at their next request."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse

from vern.accounts.second_factor import SESSION_SIGN_IN, sign_in_is_open


def ended_sign_ins(get_response: Callable[[HttpRequest], HttpResponse]) -> Callable[[HttpRequest], HttpResponse]:
    def middleware(request: HttpRequest) -> HttpResponse:
        # Visitors have no session cookie: their session is never touched here (no "Vary: Cookie" on public
        # pages). Only sessions that completed a staff sign-in carry the key: one indexed lookup for them.
        if settings.SESSION_COOKIE_NAME not in request.COOKIES:
            return get_response(request)
        pk = request.session.get(SESSION_SIGN_IN)
        if pk is not None and not sign_in_is_open(pk):
            logout(request)
        return get_response(request)

    return middleware
