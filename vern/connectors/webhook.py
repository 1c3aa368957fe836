"""The webhook contract (docs/connectors.md): vern asks another system to find, export or erase a person.

vern POSTs JSON to the connector's URL. Both directions are signed with the shared secret:

    X-Vern-Timestamp: <Unix seconds>
    X-Vern-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>." + body)>

A message whose timestamp is more than ``REPLAY_WINDOW`` from now, or whose signature does not
match, is refused by both sides. vern sends only the standard library's HTTP client (no redirects
followed, a timeout on every call); an answer that is not signed, late, or malformed is a failure,
never a result.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from vern.connectors.config import ConnectorFailed, secret_value
from vern.declaration.schema import Connector
from vern.registry.surface import ExternalRows, ExternalStep, Person

REPLAY_WINDOW = 300  # seconds either way
MAX_ANSWER_BYTES = 5 * 1024 * 1024
ACTIONS = ("find", "export", "erase", "rectify")
# A webhook carries personal data, so it is reached over TLS; plain http only on this machine's
# loopback (a system on the same host, and the tests), where nothing crosses a network.
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})


def url_problem(connector_id: str, url: str) -> str | None:
    """Why ``url`` may not be a webhook's URL (None when it may): https, or http to a loopback host."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
    except ValueError:
        return f"{connector_id}: the webhook URL is not a URL"
    if parts.scheme.lower() == "https" and host:
        return None
    if parts.scheme.lower() == "http" and host in LOOPBACK_HOSTS:
        return None
    return (
        f"{connector_id}: the webhook URL must start with https:// "
        "(http:// is allowed only to 127.0.0.1, ::1 or localhost)"
    )


def sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify(secret: str, timestamp: str, body: bytes, signature: str, *, now: float | None = None) -> bool:
    """Whether ``signature`` is the secret's over timestamp and body, and the timestamp is recent."""
    try:
        sent = int(timestamp)
    except ValueError:
        return False
    moment = time.time() if now is None else now
    if abs(moment - sent) > REPLAY_WINDOW:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a redirect is an answer of its own: a failure, never followed


_opener = urllib.request.build_opener(_NoRedirect)


def call(connector: Connector, action: str, payload: Mapping[str, Any]) -> dict[str, Any]:
    """POST ``action`` with ``payload``, signed; the verified JSON answer, or ConnectorFailed."""
    url = secret_value(connector.url_env)
    secret = secret_value(connector.secret_env)
    problem = url_problem(connector.id, url)
    if problem is not None:
        raise ConnectorFailed(problem)
    body = json.dumps({"action": action, **payload}, ensure_ascii=False, sort_keys=True).encode("utf-8")
    timestamp = str(int(time.time()))
    message = urllib.request.Request(  # noqa: S310 (the scheme is checked by url_problem)
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "X-Vern-Timestamp": timestamp,
            "X-Vern-Signature": sign(secret, timestamp, body),
            "User-Agent": "vern-connector/1",
        },
    )
    try:
        with _opener.open(message, timeout=connector.timeout_seconds) as answer:
            content = answer.read(MAX_ANSWER_BYTES + 1)
            answered_at = answer.headers.get("X-Vern-Timestamp", "")
            signature = answer.headers.get("X-Vern-Signature", "")
    except urllib.error.HTTPError as exc:
        raise ConnectorFailed(f"{connector.id}: the webhook answered {exc.code}") from None
    except TimeoutError:
        raise ConnectorFailed(
            f"{connector.id}: the webhook did not answer within {connector.timeout_seconds} s"
        ) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        if isinstance(reason, TimeoutError):
            raise ConnectorFailed(
                f"{connector.id}: the webhook did not answer within {connector.timeout_seconds} s"
            ) from None
        raise ConnectorFailed(f"{connector.id}: the webhook cannot be reached ({type(reason).__name__})") from None
    if len(content) > MAX_ANSWER_BYTES:
        raise ConnectorFailed(f"{connector.id}: the webhook's answer is larger than 5 MB")
    if not verify(secret, answered_at, content, signature):
        raise ConnectorFailed(f"{connector.id}: the webhook's answer has a bad or old signature")
    try:
        data = json.loads(content)
    except ValueError:
        raise ConnectorFailed(f"{connector.id}: the webhook's answer is not JSON") from None
    if not isinstance(data, dict) or not isinstance(data.get("sources"), list):
        raise ConnectorFailed(f"{connector.id}: the webhook's answer has no list of sources")
    return data


def _identifiers(person: Person) -> dict[str, str]:
    return {kind: value for kind, value in (("email", person.email), ("phone", person.phone)) if value}


def _title(value: Any, language: str, fallback: str) -> str:
    if isinstance(value, dict):
        value = value.get(language) or value.get("en") or value.get("nb")
    return value if isinstance(value, str) and value else fallback


def _source(connector: Connector, item: Any) -> tuple[str, dict[str, Any]]:
    if not isinstance(item, dict) or not isinstance(item.get("source"), str):
        raise ConnectorFailed(f"{connector.id}: a source in the webhook's answer has no name")
    return f"{connector.id}.{item['source'][:60]}", item


def export(connector: Connector, person: Person) -> list[ExternalRows]:
    data = call(connector, "export", {"request": person.reference, "identifiers": _identifiers(person)})
    found = []
    for item in data["sources"]:
        source, item = _source(connector, item)
        rows = item.get("rows")
        if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
            raise ConnectorFailed(f"{connector.id}: the rows of {source} are not a list of objects")
        fields = item.get("fields") or sorted({key for row in rows for key in row})
        found.append(
            ExternalRows(
                source=source,
                title=_title(item.get("title"), person.language, source),
                purpose=connector.purpose,
                fields=tuple(str(name) for name in fields),
                rows=tuple(rows),
                portable=bool(item.get("portable", False)),
                rectifiable=tuple(
                    str(name) for name in (item.get("rectifiable") or []) if isinstance(name, str) and name in fields
                ),
            )
        )
    return found


def erase(connector: Connector, person: Person, *, dry_run: bool) -> list[ExternalStep]:
    data = call(
        connector,
        "erase",
        {"request": person.reference, "identifiers": _identifiers(person), "dry_run": dry_run},
    )
    steps = []
    for item in data["sources"]:
        source, item = _source(connector, item)
        count = item.get("count")
        action = item.get("action", "delete")
        if not isinstance(count, int) or count < 0 or action not in ("delete", "anonymise", "retain"):
            raise ConnectorFailed(f"{connector.id}: {source} has no count or no known action")
        steps.append(
            ExternalStep(
                source=source, title=_title(item.get("title"), person.language, source), count=count, action=action
            )
        )
    return steps


def rectify(connector: Connector, person: Person, source: str, changes: Mapping[str, str], *, expected: int) -> int:
    """Ask the webhook to set ``changes`` on the person's rows of ``source`` (its own name, without the
    connector's id); the rows it says it changed. A count other than ``expected`` is a failure."""
    data = call(
        connector,
        "rectify",
        {
            "request": person.reference,
            "identifiers": _identifiers(person),
            "source": source,
            "changes": dict(changes),
            "expected": expected,
        },
    )
    counts = []
    for item in data["sources"]:
        name, item = _source(connector, item)
        if name == f"{connector.id}.{source}":
            count = item.get("count")
            if not isinstance(count, int) or count < 0:
                raise ConnectorFailed(f"{connector.id}: {name} has no count")
            counts.append(count)
    if counts != [expected]:
        raise ConnectorFailed(
            f"{connector.id}: the webhook corrected {sum(counts)} rows of {source}, not the {expected} shown"
        )
    return expected


def ping(connector: Connector) -> None:
    """A signed ``find`` for nobody: the webhook is reachable, knows the secret and answers in time."""
    call(connector, "find", {"request": "", "identifiers": {}})
