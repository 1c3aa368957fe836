"""The one-time token in every enquiry form.

It is signed by the server when the form is shown and carries a random nonce
and the time. A submission must bring it back: not sooner than a few seconds
after (people take longer than that to fill in a form; scripts do not), not
later than a day after, and only once (its nonce becomes the enquiry's
``submission_key``, so a double-click makes one enquiry). A site that embeds
the forms fetches a token through the API, which only declared origins may
read.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

from django.core import signing

from vern.lib.keys import digest

SALT = "vern.enquiries.form"
MAX_AGE_SECONDS = 24 * 3600
MIN_FILL_SECONDS = 3


class TokenProblem(ValueError):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code  # "expired", "invalid" or "too_fast"


@dataclass(frozen=True)
class Token:
    submission_key: str
    age_seconds: float


def issue(kind: str, *, now: float | None = None) -> str:
    issued = int(time.time() if now is None else now)
    return signing.dumps({"k": kind, "n": secrets.token_urlsafe(16), "t": issued}, salt=SALT)


def check(token: str, kind: str, *, now: float | None = None, min_seconds: float | None = None) -> Token:
    current = time.time() if now is None else now
    try:
        payload = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        raise TokenProblem("invalid") from None
    if not isinstance(payload, dict) or payload.get("k") != kind or not isinstance(payload.get("t"), int):
        raise TokenProblem("invalid")
    age = current - payload["t"]
    if age > MAX_AGE_SECONDS:
        raise TokenProblem("expired")
    if age < (MIN_FILL_SECONDS if min_seconds is None else min_seconds):
        raise TokenProblem("too_fast")
    return Token(submission_key=digest(str(payload["n"]), purpose="enquiries:submission"), age_seconds=age)
