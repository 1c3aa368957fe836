"""How fast one person's data is found, exported and erased in a full database, and in how much memory.

Run by ``make bench`` (``--quick`` for a hundredth of the rows). For PostgreSQL (a
fresh scratch database on ``VERN_BENCH_PG``) and SQLite (a temporary folder), with
the default declaration published:

* neighbours: 1 million enquiries (``enquiries_enquiry``, their encrypted fields
  real ciphertexts of a few values, each row its own blind indexes) with a contact
  log row for every second one and three search terms each, 10 million cookie
  decisions (``consent_consentevent``, each its own consent id, numbered as the
  chain numbers them) and 10 million technical log rows (``analytics_logevent``,
  over the last 20 days; on PostgreSQL in day partitions), generated inside the
  database (``generate_series`` on PostgreSQL, a counting CTE on SQLite) with the
  secondary indexes built once afterwards;
* the people measured, made through vern's own services as visitors and staff
  would make them: two enquiries each (``enquiry_submit``, with its mails and
  audit rows) with two contact log rows each, five cookie decisions under one
  consent id (``consent_decide``), and a confirmed rights request for access and
  erasure carrying that email and consent id;
* then, each phase in a fresh process (so that its peak memory is the work's, not
  the loading's), for each person: discovery (``vern.rights.selectors.discover``,
  which counts the rows of every registered model), the access package
  (``vern.rights.packages.rendering.access_package``, the zip) and the erasure
  (``vern.rights.services.erasure.erasure_carry_out``, each person erased once). One more
  person is done first in each process and not counted (a server's process is
  warm); that first call's time is printed beside the figures;
* the query plans of every lookup discovery makes (``EXPLAIN`` on PostgreSQL after
  ``VACUUM ANALYZE``, as autovacuum leaves it; ``EXPLAIN QUERY PLAN`` on SQLite, which
  vern never analyses). A lookup that reads a whole table (a ``Seq Scan``, an index
  scan without an index condition, or a SQLite ``SCAN``) is MISSED, except where
  PostgreSQL's planner reads a table of under ``SMALL_TABLE`` rows whole because that
  is cheaper than any index (an empty tombstone table, 51 requests) and every column
  looked up there has an index: that is printed with the index names, and counted.

Targets (issue 7; anchor: Fides 2.78.2, a median 0.30 s for an access request and
0.47 s for an erasure on one 1-million-row PostgreSQL table, in a ~400 MiB
process): access package at most 60 ms and erasure at most 100 ms (median), a
process of at most 160 MiB, every lookup by an index. p99 of 50 calls is their
slowest (nearest rank). Figures are printed as measured; a target that is not met
says MISSED.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import io
import json
import re
import resource
import secrets
import sys
import threading
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _harness as h

TARGET_ACCESS_MS = 60.0
TARGET_ERASURE_MS = 100.0
TARGET_PROCESS_MIB = 160.0
SMALL_TABLE = 10_000  # rows: below this a PostgreSQL sequential scan is the planner's choice, not a missing index
VARIANTS = 16  # distinct ciphertexts per encrypted field among the neighbour rows
LOG_DAYS = 20
CHUNK = 1_000_000  # rows per statement (and per transaction on SQLite)
TERMS_PER_ENQUIRY = 3
QUIET_WAIT = 45.0  # seconds to wait for other busy processes to finish before each measured phase


# -- inside Django: loading ---------------------------------------------------------------------


def _vendor() -> str:
    from django.db import connection

    return str(connection.vendor)


def _secondary_indexes(cursor: Any, table: str) -> list[tuple[str, str]]:
    """(name, CREATE statement) of the table's indexes that back no constraint (they can be rebuilt)."""
    if _vendor() == "postgresql":
        cursor.execute(
            "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE i.indrelid = %s::regclass "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)",
            [table],
        )
    else:
        cursor.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s AND sql IS NOT NULL", [table]
        )
    return [(name, sql) for name, sql in cursor.fetchall()]


def _ciphertexts() -> list[dict[str, Any]]:
    """VARIANTS rows of real ciphertexts (the fields' own encryption) for the neighbours' encrypted columns."""
    from vern.enquiries.models import ContactLog, Enquiry

    def enc(model: Any, name: str, value: str) -> str:
        return str(model._meta.get_field(name).get_prep_value(value))

    first = ["Kari", "Ola", "Ingrid", "Lars", "Sigrid", "Nils", "Astrid", "Jonas"]
    last = ["Nordmann", "Hansen", "Johansen", "Olsen", "Larsen", "Berg", "Haugen", "Dahl"]
    rows = []
    for k in range(VARIANTS):
        name = f"{first[k % 8]} {last[(k * 3) % 8]}"
        rows.append(
            {
                "k": k,
                "name": enc(Enquiry, "name", name),
                "email": enc(Enquiry, "email", f"{name.split()[0].lower()}.{k}@kunde{k}.example"),
                "phone": enc(Enquiry, "phone", f"+4791{k:06d}"),
                "organisation": enc(Enquiry, "organisation", f"Bedrift {k} AS"),
                "message": enc(Enquiry, "message", "Vi vil gjerne vite mer om tjenesten. " * (1 + k % 4)),
                "empty_phone": enc(Enquiry, "phone", ""),
                "empty_note": enc(Enquiry, "customer_note", ""),
                "note": enc(ContactLog, "note", f"Ringte tilbake, avtalte møte ({k})."),
            }
        )
    return rows


def _make_cipher_table(cursor: Any) -> None:
    cursor.execute("DROP TABLE IF EXISTS bench_cipher")
    cursor.execute(
        "CREATE TABLE bench_cipher (k integer PRIMARY KEY, name text, email text, phone text, organisation text, "
        "message text, empty_phone text, empty_note text, note text)"
    )
    rows = _ciphertexts()
    columns = list(rows[0])
    cursor.executemany(
        f"INSERT INTO bench_cipher ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})",  # noqa: S608
        [[row[c] for c in columns] for row in rows],
    )


def _sql(sql: str, params: dict[str, Any] | None = None) -> Callable[[Any], None]:
    """A loading job: one statement on the worker's cursor."""

    def job(cursor: Any) -> None:
        cursor.execute(sql, params)

    return job


def _micro(moment: dt.datetime) -> int:
    return int((moment - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) / dt.timedelta(microseconds=1))


def _sqlite_time(expr: str) -> str:
    """SQL turning microseconds since 1970 into Django's SQLite datetime text (UTC)."""
    return f"(strftime('%Y-%m-%d %H:%M:%S', ({expr}) / 1000000, 'unixepoch') || printf('.%06d', ({expr}) % 1000000))"


def _counting(first: int, last: int) -> str:
    """SQLite's generate_series: a CTE ``c(g)`` counting from first to last."""
    return f"WITH RECURSIVE c(g) AS (SELECT {first} UNION ALL SELECT g + 1 FROM c WHERE g < {last}) "  # noqa: S608


def _chunks(total: int) -> list[tuple[int, int]]:
    return [(first, min(total, first + CHUNK - 1)) for first in range(1, total + 1, CHUNK)]


# Enquiries from the last two years, newest with the highest g; a phone number on every third.
PG_ENQUIRIES = """
INSERT INTO enquiries_enquiry (kind, channel, status, name, email, email_index, phone, phone_index, organisation,
    message, preferred_date, preferred_time, language, purpose, legal_basis, policy_version, received_at,
    last_contact_at, became_customer_at, customer_note, relationship_ended_at, registered_by_id, submission_key)
SELECT CASE WHEN g %% 4 = 0 THEN 'demo' ELSE 'contact' END,
       (ARRAY['form', 'form', 'form', 'embedded', 'email', 'phone'])[1 + g %% 6],
       CASE WHEN g %% 3 = 0 THEN 'open' ELSE 'new' END,
       c.name, c.email, encode(sha256(('bench-email-' || g)::bytea), 'hex'),
       CASE WHEN g %% 3 = 0 THEN c.phone ELSE c.empty_phone END,
       CASE WHEN g %% 3 = 0 THEN encode(sha256(('bench-phone-' || g)::bytea), 'hex') ELSE '' END,
       c.organisation, c.message, NULL, '', CASE WHEN g %% 5 = 0 THEN 'en' ELSE 'nb' END, 'enquiries',
       CASE WHEN g %% 4 = 0 THEN 'b' ELSE 'f' END, %(version)s, t, t, NULL, c.empty_note, NULL, NULL, NULL
FROM (SELECT g, %(start)s::timestamptz + (g::bigint * %(step)s) * interval '1 microsecond' AS t
      FROM generate_series(%(first)s, %(last)s) AS g) AS x
JOIN bench_cipher c ON c.k = x.g %% 16
"""

SQLITE_ENQUIRIES = """
INSERT INTO enquiries_enquiry (kind, channel, status, name, email, email_index, phone, phone_index, organisation,
    message, preferred_date, preferred_time, language, purpose, legal_basis, policy_version, received_at,
    last_contact_at, became_customer_at, customer_note, relationship_ended_at, registered_by_id, submission_key)
SELECT CASE WHEN g % 4 = 0 THEN 'demo' ELSE 'contact' END,
       CASE g % 6 WHEN 3 THEN 'embedded' WHEN 4 THEN 'email' WHEN 5 THEN 'phone' ELSE 'form' END,
       CASE WHEN g % 3 = 0 THEN 'open' ELSE 'new' END,
       b.name, b.email, lower(hex(randomblob(32))),
       CASE WHEN g % 3 = 0 THEN b.phone ELSE b.empty_phone END,
       CASE WHEN g % 3 = 0 THEN lower(hex(randomblob(32))) ELSE '' END,
       b.organisation, b.message, NULL, '', CASE WHEN g % 5 = 0 THEN 'en' ELSE 'nb' END, 'enquiries',
       CASE WHEN g % 4 = 0 THEN 'b' ELSE 'f' END, {version}, {time}, {time}, NULL, b.empty_note, NULL, NULL, NULL
FROM c JOIN bench_cipher b ON b.k = c.g % 16
"""

# A contact logged on every second enquiry, and each enquiry's search terms (keyed digests of its words).
CONTACTS = """
INSERT INTO enquiries_contactlog (enquiry_id, kind, happened_at, note, staff_id, created_at)
SELECT e.id, 'phone', e.received_at, b.note, NULL, e.received_at
FROM enquiries_enquiry e JOIN bench_cipher b ON b.k = e.id {mod} 16 WHERE e.id {mod} 2 = 0 AND e.id <= {last}
"""
PG_TERMS = """
INSERT INTO enquiries_searchterm (enquiry_id, digest)
SELECT e.id, encode(sha256(('bench-term-' || e.id || '-' || n)::bytea), 'hex')
FROM enquiries_enquiry e CROSS JOIN generate_series(1, %(terms)s) AS n WHERE e.id <= %(last)s
"""
SQLITE_TERMS = """
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {terms})
INSERT INTO enquiries_searchterm (enquiry_id, digest)
SELECT e.id, lower(hex(randomblob(32))) FROM enquiries_enquiry e CROSS JOIN n WHERE e.id <= {last}
"""

# Cookie decisions of the last 180 days, each visitor's own consent id; the chain's numbers
# without gaps, filler macs (nothing measured verifies the chain, and the head is set to the last).
PG_CONSENTS = """
INSERT INTO consent_consentevent (seq, consent_id, created_at, expires_at, action, granted, refused, policy_version,
    consent_revision, snapshot_id, language, layer, page_path, origin, ip_shortened, gpc, prev_mac, mac)
SELECT g, md5('bench-consent-' || g), t, t + interval '365 days',
       (ARRAY['accept_all', 'reject_all', 'custom', 'reject_all'])[1 + g %% 4],
       CASE g %% 4 WHEN 0 THEN %(all)s::jsonb WHEN 2 THEN %(some)s::jsonb ELSE '[]'::jsonb END,
       CASE g %% 4 WHEN 0 THEN '[]'::jsonb WHEN 2 THEN %(rest)s::jsonb ELSE %(all)s::jsonb END,
       %(version)s, %(revision)s, %(snapshot)s, CASE WHEN g %% 5 = 0 THEN 'en' ELSE 'nb' END, 'banner',
       (ARRAY['/', '/', '/en/', '/contact/', '/privacy/'])[1 + g %% 5], '',
       ((g::bigint * 7919) %% 223 + 1) || '.' || ((g::bigint * 104729) %% 256) || '.' || ((g / 13) %% 256) || '.0',
       g %% 50 = 0,
       CASE WHEN g = 1 THEN repeat('0', 64) ELSE encode(sha256(('bench-mac-' || (g - 1))::bytea), 'hex') END,
       encode(sha256(('bench-mac-' || g)::bytea), 'hex')
FROM (SELECT g, %(start)s::timestamptz + (g::bigint * %(step)s) * interval '1 microsecond' AS t
      FROM generate_series(%(first)s, %(last)s) AS g) AS x
"""

SQLITE_CONSENTS = """
INSERT INTO consent_consentevent (seq, consent_id, created_at, expires_at, action, granted, refused, policy_version,
    consent_revision, snapshot_id, language, layer, page_path, origin, ip_shortened, gpc, prev_mac, mac)
SELECT g, lower(hex(randomblob(16))), {time}, {expires},
       CASE g % 4 WHEN 0 THEN 'accept_all' WHEN 2 THEN 'custom' ELSE 'reject_all' END,
       CASE g % 4 WHEN 0 THEN '{all}' WHEN 2 THEN '{some}' ELSE '[]' END,
       CASE g % 4 WHEN 0 THEN '[]' WHEN 2 THEN '{rest}' ELSE '{all}' END,
       {version}, {revision}, '{snapshot}', CASE WHEN g % 5 = 0 THEN 'en' ELSE 'nb' END, 'banner',
       CASE g % 5 WHEN 2 THEN '/en/' WHEN 3 THEN '/contact/' WHEN 4 THEN '/privacy/' ELSE '/' END, '',
       ((g * 7919) % 223 + 1) || '.' || ((g * 104729) % 256) || '.' || ((g / 13) % 256) || '.0', g % 50 = 0,
       lower(hex(randomblob(32))), lower(hex(randomblob(32)))
FROM c
"""


SQLITE_LOGS = """
INSERT INTO analytics_logevent (at, kind, status, method, route, ip, browser, detail)
SELECT {time},
       CASE g % 5 WHEN 0 THEN 'error' WHEN 1 THEN 'login' WHEN 2 THEN 'rate' WHEN 3 THEN 'denied' ELSE 'rate' END,
       CASE g % 5 WHEN 0 THEN 500 WHEN 1 THEN 0 WHEN 2 THEN 429 WHEN 3 THEN 403 ELSE 429 END,
       CASE WHEN g % 3 = 0 THEN 'POST' ELSE 'GET' END,
       CASE g % 5 WHEN 0 THEN 'staff/login/' WHEN 1 THEN 'api/analytics/event' WHEN 2 THEN 'contact/'
                  WHEN 3 THEN 'staff/enquiries/<int:pk>/' ELSE 'api/consent/' END,
       ((g * 7919) % 223 + 1) || '.' || ((g * 104729) % 256) || '.' || ((g / 13) % 256) || '.0',
       CASE (g / 7) % 5 WHEN 0 THEN 'Chrome' WHEN 1 THEN 'Firefox' WHEN 2 THEN 'Safari' WHEN 3 THEN 'Edge' ELSE '' END,
       CASE WHEN g % 5 = 1 THEN 'wrong_password' ELSE '' END
FROM c
"""


class Plan:
    """What the loading knows: the times its rows span, and the published version's numbers."""

    def __init__(self, enquiries: int, consents: int, logs: int) -> None:
        from vern.consent.content import banner_content, snapshot_store
        from vern.declaration.selectors import declaration_of, latest_version

        version = latest_version()
        assert version is not None, "no declaration is published"
        declaration = declaration_of(version)
        digest, content = banner_content(version, "nb")
        self.snapshot = snapshot_store(digest, content).hash
        self.version, self.revision = version.number, version.consent_revision
        optional = [c.id for c in declaration.cookies.categories if c.consent_required]
        self.all = json.dumps(optional)
        self.some = json.dumps(optional[:1])
        self.rest = json.dumps(optional[1:])
        self.now = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(hours=1)
        self.enquiries, self.consents, self.logs = enquiries, consents, logs
        micro = dt.timedelta(microseconds=1)
        self.enquiry_start = self.now - dt.timedelta(days=730)
        self.enquiry_step = max(1, (dt.timedelta(days=730) // micro) // max(enquiries, 1))
        self.consent_start = self.now - dt.timedelta(days=180)
        self.consent_step = max(1, (dt.timedelta(days=180) // micro) // max(consents, 1))


def _load_pg(plan: Plan) -> dict[str, float]:
    """The neighbours on PostgreSQL, by two loading connections; each table's indexes built once at the end."""
    from django.db import connection

    from vern.lib import partitions

    timings: dict[str, float] = {}
    with connection.cursor() as cursor:
        _make_cipher_table(cursor)
        dropped = {
            table: _secondary_indexes(cursor, table)
            for table in ("enquiries_enquiry", "enquiries_contactlog", "enquiries_searchterm", "consent_consentevent")
        }
        for indexes in dropped.values():
            for name, _ in indexes:
                cursor.execute(f'DROP INDEX "{name}"')

    jobs: list[tuple[str, Callable[[Any], None]]] = []
    for first, last in _chunks(plan.enquiries):
        params = {
            "version": plan.version,
            "start": plan.enquiry_start,
            "step": plan.enquiry_step,
            "first": first,
            "last": last,
        }
        jobs.append(("enquiries", _sql(PG_ENQUIRIES, params)))
    for first, last in _chunks(plan.consents):
        params = {
            "version": plan.version,
            "revision": plan.revision,
            "snapshot": plan.snapshot,
            "all": plan.all,
            "some": plan.some,
            "rest": plan.rest,
            "start": plan.consent_start,
            "step": plan.consent_step,
            "first": first,
            "last": last,
        }
        jobs.append(("consent events", _sql(PG_CONSENTS, params)))
    per_day = -(-plan.logs // LOG_DAYS)
    for offset in range(LOG_DAYS):
        n = min(per_day, plan.logs - offset * per_day)
        if n <= 0:
            break
        day = (plan.now - dt.timedelta(days=LOG_DAYS - offset)).date()
        jobs.append(("technical log", functools.partial(_pg_log_day, day=day, n=n)))

    lock = threading.Lock()
    failures: list[str] = []

    def worker(queue: list[tuple[str, Callable[[Any], None]]]) -> None:
        from django.db import connection as own

        try:
            with own.cursor() as cursor:
                cursor.execute("SET synchronous_commit = off")  # loading only
                # Every filler row points at the one stored snapshot; skip the per-row foreign key check.
                cursor.execute("SET session_replication_role = replica")
                while True:
                    with lock:
                        if not queue or failures:
                            return
                        what, job = queue.pop(0)
                    started = time.perf_counter()
                    job(cursor)
                    with lock:
                        timings[what] = timings.get(what, 0.0) + time.perf_counter() - started
        except Exception as exc:
            failures.append(repr(exc))
        finally:
            own.close()

    def in_parallel(queue: list[tuple[str, Callable[[Any], None]]]) -> None:
        threads = [threading.Thread(target=worker, args=(queue,)) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if failures:
            raise RuntimeError(failures[0])

    in_parallel(jobs)
    last = plan.enquiries
    in_parallel(
        [
            ("contact log", _sql(CONTACTS.format(mod="%", last=last))),
            ("search terms", _sql(PG_TERMS, {"terms": TERMS_PER_ENQUIRY, "last": last})),
        ]
    )
    in_parallel([(f"indexes of {table}", _sql(sql)) for table, indexes in dropped.items() for _, sql in indexes])
    from vern.analytics.models import LogEvent

    today = dt.datetime.now(dt.UTC).date()
    partitions.ensure_partitions(LogEvent, [today, today + dt.timedelta(days=1)])
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_cipher")
    return timings


def _pg_log_day(cursor: Any, day: dt.date, n: int) -> None:
    """One UTC day of the technical log: filled as a plain table, then attached (its indexes built once)."""
    from vern.lib import partitions

    name = partitions.partition_name("analytics_logevent", day)
    midnight = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
    step = (dt.timedelta(days=1) // dt.timedelta(microseconds=1)) // n
    cursor.execute(f'CREATE TABLE "{name}" (LIKE analytics_logevent INCLUDING DEFAULTS)')
    cursor.execute(h.PG_LOG_ROWS.format(table=f'"{name}"'), {"start": midnight, "n": n, "step": step})
    cursor.execute(
        f'ALTER TABLE analytics_logevent ATTACH PARTITION "{name}" FOR VALUES '
        f"FROM ('{midnight.isoformat()}') TO ('{(midnight + dt.timedelta(days=1)).isoformat()}')"
    )


def _load_sqlite(plan: Plan) -> dict[str, float]:
    """The neighbours on SQLite: a transaction per million rows, foreign key checks and syncs off while
    loading, each table's secondary indexes dropped first and made again from their own definitions."""
    from django.db import connection, transaction

    timings: dict[str, float] = {}
    tables = (
        "enquiries_enquiry",
        "enquiries_contactlog",
        "enquiries_searchterm",
        "consent_consentevent",
        "analytics_logevent",
    )
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA foreign_keys = OFF")  # this loading connection only
        cursor.execute("PRAGMA synchronous = OFF")
        cursor.execute("PRAGMA cache_size = -1000000")
        _make_cipher_table(cursor)
        dropped = {table: _secondary_indexes(cursor, table) for table in tables}
        for indexes in dropped.values():
            for name, _ in indexes:
                cursor.execute(f'DROP INDEX "{name}"')

    def timed(what: str, sql: str) -> None:
        started = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
        timings[what] = timings.get(what, 0.0) + time.perf_counter() - started

    start = _micro(plan.enquiry_start)
    for first, last in _chunks(plan.enquiries):
        when = f"({start} + c.g * {plan.enquiry_step})"
        timed(
            "enquiries",
            _counting(first, last) + SQLITE_ENQUIRIES.format(version=plan.version, time=_sqlite_time(when)),
        )
    timed("contact log", CONTACTS.format(mod="%", last=plan.enquiries))
    timed("search terms", SQLITE_TERMS.format(terms=TERMS_PER_ENQUIRY, last=plan.enquiries))
    start = _micro(plan.consent_start)
    year = 365 * 86_400_000_000
    for first, last in _chunks(plan.consents):
        when = f"({start} + g * {plan.consent_step})"
        timed(
            "consent events",
            _counting(first, last)
            + SQLITE_CONSENTS.format(
                time=_sqlite_time(when),
                expires=_sqlite_time(f"{when} + {year}"),
                all=plan.all,
                some=plan.some,
                rest=plan.rest,
                version=plan.version,
                revision=plan.revision,
                snapshot=plan.snapshot,
            ),
        )
    start = _micro(plan.now - dt.timedelta(days=LOG_DAYS))
    step = (dt.timedelta(days=LOG_DAYS) // dt.timedelta(microseconds=1)) // max(plan.logs, 1)
    for first, last in _chunks(plan.logs):
        timed("technical log", _counting(first, last) + SQLITE_LOGS.format(time=_sqlite_time(f"{start} + g * {step}")))
    for table, indexes in dropped.items():
        for _, sql in indexes:
            timed(f"indexes of {table}", sql)
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_cipher")
        cursor.execute("PRAGMA foreign_keys = ON")
    return timings


def inner_load(enquiries: int, consents: int, logs: int) -> dict[str, Any]:
    from django.db import connection

    from vern.audit.models import Head
    from vern.consent.models import ConsentEvent
    from vern.consent.services import CONSENT_CHAIN

    plan = Plan(enquiries, consents, logs)
    started = time.perf_counter()
    timings = _load_pg(plan) if connection.vendor == "postgresql" else _load_sqlite(plan)
    # The chain's head at the last filler row, as if the site had appended them one by one.
    last = ConsentEvent.objects.order_by("-seq").values_list("seq", "mac").first()
    if last is not None:
        Head.objects.update_or_create(pk=CONSENT_CHAIN.head_id, defaults={"seq": last[0], "mac": last[1]})
    return {"seconds": time.perf_counter() - started, "timings": timings}


# -- inside Django: the people measured -------------------------------------------------------------


def inner_people(count: int) -> dict[str, Any]:
    """Each person as the site would have them: enquiries through the form, contacts logged by
    sales, cookie decisions through the banner, and a confirmed request for access and erasure."""
    from django.utils import timezone

    from vern.accounts.roles import Role
    from vern.accounts.services import staff_create
    from vern.audit.services import Actor
    from vern.consent.services import consent_decide
    from vern.declaration.selectors import latest_version
    from vern.enquiries.services import Intake, enquiry_log_contact, enquiry_submit
    from vern.lib.keys import email_index
    from vern.rights import deadlines
    from vern.rights.models import Event, Request, Right

    started = time.perf_counter()
    sales = staff_create(
        email="salg@bench.example",
        name="Salg Bench",
        roles=[Role.SALES],
        actor=Actor.cli(),
        send_invitation=False,
    )
    version = latest_version()
    assert version is not None
    requests = []
    for i in range(count):
        email = f"person.{i}@bench{i % 7}.example"
        for n, kind in enumerate(("contact", "demo")):
            received = enquiry_submit(
                kind=kind,
                channel="form",
                intake=Intake(
                    name=f"Person {i} Benchsen",
                    email=email,
                    phone="",
                    organisation=f"Benchfirma {i} AS",
                    message=f"Hei, dette er henvendelse {n + 1} fra person {i}.",
                ),
                language="nb",
                submission_key=secrets.token_hex(32),
                network=f"198.51.{i % 250}.0",
            )
            for c in range(2):
                enquiry_log_contact(
                    staff=sales,
                    enquiry=received.enquiry,
                    kind="phone",
                    happened_at=timezone.now(),
                    note=f"Samtale {c + 1} med person {i}.",
                )
        previous = None
        for choice in ("accept_all", "reject_all", "custom", "accept_all", "reject_all"):
            decision = consent_decide(
                choice=choice,
                categories=[],
                revision=version.consent_revision,
                language="nb",
                layer="banner",
                page_path="/",
                origin="",
                ip_shortened=f"203.0.{i % 250}.0",
                gpc=False,
                previous=previous,
            )
            previous = decision.choice
        assert previous is not None
        now = timezone.now()
        request = Request.objects.create(
            rights=[Right.ACCESS, Right.ERASURE],
            channel=Request.Channel.FORM,
            status=Request.Status.CONFIRMED,
            language="nb",
            email=email,
            email_index=email_index(email),
            consent_id=previous.consent_id,
            received_at=now,
            verified_at=now,
            due_on=deadlines.due_on(now),
        )
        Event.objects.create(request=request, kind="received", data={"channel": "form"})
        Event.objects.create(request=request, kind="confirmed", data={"how": "link"})
        requests.append(request.pk)
    return {"requests": requests, "seconds": time.perf_counter() - started}


def inner_settle() -> dict[str, Any]:
    """On PostgreSQL, VACUUM ANALYZE: the statistics and visibility map autovacuum keeps in a running site."""
    from django.db import connection

    started = time.perf_counter()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE)")
    counts = {}
    with connection.cursor() as cursor:
        for table in ("enquiries_enquiry", "consent_consentevent", "analytics_logevent", "rights_request"):
            cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 (fixed names)
            counts[table] = int(cursor.fetchone()[0])
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_database_size(current_database())")
            size = int(cursor.fetchone()[0])
        else:
            cursor.execute("SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()")
            size = int(cursor.fetchone()[0])
    return {"seconds": time.perf_counter() - started, "counts": counts, "bytes": size}


# -- inside Django: query plans ---------------------------------------------------------------------


def _pg_full_scans(node: dict[str, Any]) -> list[str]:
    """The plan's nodes that read a whole relation: sequential scans, and index scans without a condition."""
    found = []
    kind = node.get("Node Type", "")
    relation = node.get("Relation Name", "")
    if kind == "Seq Scan":
        found.append(f"Seq Scan on {relation}")
    elif kind in ("Index Scan", "Index Only Scan") and "Index Cond" not in node:
        found.append(f"{kind} of all of {relation} ({node.get('Index Name', '')})")
    for child in node.get("Plans", []):
        found += _pg_full_scans(child)
    return found


def _sqlite_full_scans(plan: str) -> list[str]:
    """SQLite's ``SCAN`` lines: a pass over a whole table or index (``SEARCH`` is an index lookup)."""
    return [line.strip() for line in plan.splitlines() if re.search(r"\bSCAN (?!CONSTANT ROW)", line)]


def inner_plans(request_pk: int) -> dict[str, Any]:
    from django.db import connection

    from vern.registry.entries import entries
    from vern.rights.models import Request
    from vern.rights.selectors import discover, person_keys

    request = Request.objects.get(pk=request_pk)
    keys = person_keys(request)
    looked_up = set()
    plans = []
    for found in discover(request):
        label = found.entry.label
        looked_up.add(label)
        table = found.entry.model._meta.db_table
        item: dict[str, Any] = {"model": label, "table": table, "count": found.count, "sql": str(found.records.query)}
        if connection.vendor == "postgresql":
            item["plan"] = found.records.explain()
            tree = json.loads(found.records.explain(format="json"))[0]["Plan"]
            item["full_scans"] = _pg_full_scans(tree)
            if item["full_scans"]:
                with connection.cursor() as cursor:
                    cursor.execute(f'SELECT count(*) FROM "{table}"')  # noqa: S608 (a model's table)
                    item["rows"] = int(cursor.fetchone()[0])
                    item["indexes"] = {}
                    for kind, names in found.entry.identifiers.items():
                        if kind not in keys:
                            continue
                        for name in names:
                            column = getattr(found.entry.model._meta.get_field(name), "column", name)
                            cursor.execute(
                                "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                                "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0] "
                                "WHERE i.indrelid = %s::regclass AND a.attname = %s AND i.indpred IS NULL "
                                "ORDER BY c.relname",
                                [table, column],
                            )
                            item["indexes"][column] = [row[0] for row in cursor.fetchall()]
        else:
            item["plan"] = found.records.explain()
            item["full_scans"] = _sqlite_full_scans(item["plan"])
        plans.append(item)
    skipped = [
        {"model": entry.label, "kinds": sorted(entry.identifiers)}
        for entry in entries()
        if entry.label not in looked_up
    ]
    return {"keys": sorted(keys), "plans": plans, "skipped": skipped}


# -- inside Django: the measurements ------------------------------------------------------------------


def _rss_mib(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def inner_measure(phase: str, requests: list[int], warm: int) -> dict[str, Any]:
    """One phase for each request, in this fresh process: times, what came out, and the process's peak memory."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from vern.audit.services import Actor
    from vern.enquiries.models import Enquiry
    from vern.rights.models import Request
    from vern.rights.selectors import discover

    started_mib = _rss_mib("VmRSS")
    action: Callable[[Request], Any]
    try:
        if phase == "discover":

            def action(request: Request) -> Any:
                return sum(found.count for found in discover(request))

        elif phase == "access":
            from vern.rights.packages.rendering import access_package

            action = access_package
        else:
            from vern.rights.services.erasure import erasure_carry_out

            def action(request: Request) -> Any:
                return erasure_carry_out(request=request, staff=None, actor=Actor.system())

    except ImportError as exc:
        return {"missing": str(exc)}
    imported_mib = _rss_mib("VmRSS")

    def describe(key: str, value: Any) -> dict[str, Any]:
        if phase == "discover":
            return {"rows": value}
        if phase == "access":
            names = zipfile.ZipFile(io.BytesIO(value)).namelist()
            return {"bytes": len(value), "files": len(names)}
        return {"enquiries_left": Enquiry.objects.filter(email_index=key).count()}

    first = Request.objects.get(pk=warm)
    key = first.email_index
    with CaptureQueriesContext(connection) as queries:
        took, value = h.timed(lambda: action(first))
    warm_result = {"seconds": took, "queries": len(queries), **describe(key, value)}
    times, outcomes = [], []
    for pk in requests:
        request = Request.objects.get(pk=pk)
        key = request.email_index
        started = time.perf_counter()
        value = action(request)
        times.append(time.perf_counter() - started)
        outcomes.append(describe(key, value))
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "times": times,
        "outcomes": outcomes,
        "warm": warm_result,
        "started_mib": started_mib,
        "imported_mib": imported_mib,
        "peak_mib": peak_mib,
        "finished_mib": _rss_mib("VmRSS"),
    }


# -- the run ------------------------------------------------------------------------------------------


def bench_backend(backend: h.Backend, sizes: dict[str, int], people: int, erasures: int) -> dict[str, Any]:
    started = time.perf_counter()
    backend.prepare()
    env = backend.env()
    prepared = time.perf_counter() - started
    loaded = h.inner(__file__, env, "load", **sizes)
    made = h.inner(__file__, env, "people", count=people + 1)
    settled = h.inner(__file__, env, "settle")
    warm, measured = made["requests"][0], made["requests"][1:]
    plans = h.inner(__file__, env, "plans", request_pk=measured[0])
    phases = {}
    for phase in ("discover", "access", "erase"):
        chosen = measured[:erasures] if phase == "erase" else measured
        waited, busy = _wait_quiet(QUIET_WAIT)
        with h.OtherLoad() as other:
            phases[phase] = h.inner(__file__, env, "measure", phase=phase, requests=chosen, warm=warm)
        phases[phase].update(other_load=other.describe(), waited=waited, busy=busy)
    return {
        "prepared": prepared,
        "loaded": loaded,
        "made": made,
        "settled": settled,
        "plans": plans,
        "phases": phases,
        "total": time.perf_counter() - started,
    }


def _wait_quiet(limit: float) -> tuple[float, list[str]]:
    """Wait (at most ``limit`` seconds) until no other process is busy; the seconds waited, and who still is."""
    started = time.monotonic()
    busy = h.busy_processes()
    while busy and time.monotonic() - started < limit:
        time.sleep(4)
        busy = h.busy_processes()
    return time.monotonic() - started, busy


PHASES = {
    "discover": "discovery (`discover`, counting every model)",
    "access": "access package (`access_package`, the zip)",
    "erase": "erasure (`erasure_carry_out`)",
}


def print_backend(backend: h.Backend, found: dict[str, Any]) -> list[tuple[str, bool, str]]:
    label = backend.label
    loaded, settled = found["loaded"], found["settled"]
    counts = settled["counts"]
    print(f"## {label}\n")
    parts = ", ".join(f"{what} {seconds:.0f} s" for what, seconds in loaded["timings"].items())
    print(
        f"- the database holds {counts['enquiries_enquiry']:,} enquiries, {counts['consent_consentevent']:,} consent "
        f"events and {counts['analytics_logevent']:,} technical log rows, loaded in {loaded['seconds']:.0f} s ({parts}"
        + ("; two connections, so the parts overlap" if backend.kind == "pg" else "")
        + f"); migrate and publish {found['prepared']:.0f} s; {len(found['made']['requests'])} people made through "
        f"the services in {found['made']['seconds']:.0f} s; "
        + (
            f"VACUUM ANALYZE {settled['seconds']:.0f} s; "
            if backend.kind == "pg"
            else "no ANALYZE (vern never runs it); "
        )
        + f"database {settled['bytes'] / 2**30:.1f} GiB"
    )
    checks: list[tuple[str, bool, str]] = []
    peaks = []
    for phase, title in PHASES.items():
        result = found["phases"][phase]
        if "missing" in result:
            print(f"- {title}: not measured, {result['missing']}")
            checks.append((f"{label}: {title}", False, f"not measured: {result['missing']}"))
            continue
        times = [t * 1000 for t in result["times"]]
        warm = result["warm"]
        extra = ""
        if phase == "discover":
            rows = [o["rows"] for o in result["outcomes"]]
            extra = f"; {min(rows)}-{max(rows)} rows found per person"
        elif phase == "access":
            sizes = [o["bytes"] for o in result["outcomes"]]
            files = [o["files"] for o in result["outcomes"]]
            extra = f"; zips of {h.median(sizes) / 1024:.0f} KiB (median), {min(files)}-{max(files)} files"
        else:
            left = sum(o["enquiries_left"] for o in result["outcomes"])
            extra = f"; enquiries left afterwards: {left}"
        print(
            f"- {title}, {len(times)} people: median {h.median(times):.1f} ms, p99 {h.percentile(times, 99):.1f} ms, "
            f"min {min(times):.1f} ms{extra}; the uncounted first call {warm['seconds'] * 1000:.0f} ms with "
            f"{warm['queries']} queries; process {result['started_mib']:.0f} MiB after start, "
            f"{result['imported_mib']:.0f} MiB with the code imported, peak {result['peak_mib']:.0f} MiB; "
            f"other processes used {result['other_load']} meanwhile"
            + (
                f" (still busy after waiting {result['waited']:.0f} s: {', '.join(result['busy'][:3])})"
                if result["busy"]
                else ""
            )
        )
        peaks.append(result["peak_mib"])
        if phase == "access":
            checks.append(
                (
                    f"{label}: access package median at most {TARGET_ACCESS_MS:g} ms",
                    h.median(times) <= TARGET_ACCESS_MS,
                    f"median {h.median(times):.1f} ms, p99 {h.percentile(times, 99):.1f} ms",
                )
            )
        if phase == "erase":
            left = sum(o["enquiries_left"] for o in result["outcomes"])
            checks.append(
                (
                    f"{label}: erasure median at most {TARGET_ERASURE_MS:g} ms",
                    h.median(times) <= TARGET_ERASURE_MS and left == 0,
                    f"median {h.median(times):.1f} ms, p99 {h.percentile(times, 99):.1f} ms"
                    + (f", {left} enquiries of erased people left" if left else ""),
                )
            )
    if peaks:
        checks.append(
            (
                f"{label}: process at most {TARGET_PROCESS_MIB:g} MiB",
                max(peaks) <= TARGET_PROCESS_MIB,
                f"peak {max(peaks):.0f} MiB",
            )
        )
    checks += print_plans(backend, found["plans"])
    print()
    return checks


def print_plans(backend: h.Backend, plans: dict[str, Any]) -> list[tuple[str, bool, str]]:
    label = backend.label
    print(f"\n### {label}: the lookups of discovery (keys: {', '.join(plans['keys'])})\n")
    missed, small = [], []
    for item in plans["plans"]:
        scans = item["full_scans"]
        indexes = item.get("indexes", {})
        if not scans:
            verdict = "index"
        elif backend.kind == "pg" and item.get("rows", SMALL_TABLE) < SMALL_TABLE and indexes and all(indexes.values()):
            verdict = (
                f"the planner reads this {item['rows']:,}-row table whole (cheaper than an index at this size); "
                "indexed: " + ", ".join(f"{column} by {' and '.join(names)}" for column, names in indexes.items())
            )
            small.append(item["model"])
        else:
            verdict = "MISSED: lookup without index (" + "; ".join(scans) + ")"
            missed.append(item["model"])
        print(f"{item['model']} ({item['count']} rows for this person): {verdict}")
        print("    " + re.sub(r"^SELECT .*? FROM ", "SELECT … FROM ", item["sql"]))  # noqa: S608 (printed)
        for line in item["plan"].splitlines():
            print("    | " + line)
    for skipped in plans["skipped"]:
        print(
            f"{skipped['model']}: not looked up (found by {', '.join(skipped['kinds'])}; the request has none of them)"
        )
    return [
        (
            f"{label}: every lookup of discovery by an index",
            not missed,
            f"{len(plans['plans'])} lookups"
            + (f"; without index: {', '.join(missed)}" if missed else "")
            + (
                f"; {len(small)} tables under {SMALL_TABLE:,} rows read whole by the planner's choice, their "
                f"columns indexed: {', '.join(small)}"
                if small
                else ""
            ),
        )
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="a hundredth of the rows (10k, 100k, 100k)")
    parser.add_argument("--enquiries", type=int, help="neighbour enquiries (default 1M; 10k with --quick)")
    parser.add_argument("--consents", type=int, help="neighbour consent events (default 10M; 100k with --quick)")
    parser.add_argument("--logs", type=int, help="technical log rows (default 10M; 100k with --quick)")
    parser.add_argument("--people", type=int, default=50, help="people measured (default 50)")
    parser.add_argument("--erasures", type=int, help="of them, how many are erased (default all)")
    parser.add_argument("--database", choices=["both", "pg", "sqlite"], default="both")
    args = parser.parse_args()
    scale = 100 if args.quick else 1
    sizes = {
        "enquiries": args.enquiries or 1_000_000 // scale,
        "consents": args.consents or 10_000_000 // scale,
        "logs": args.logs or 10_000_000 // scale,
    }
    erasures = min(args.erasures or args.people, args.people)
    print(
        f"# Rights: finding, exporting and erasing one person among {sizes['enquiries']:,} enquiries, "
        f"{sizes['consents']:,} consent events and {sizes['logs']:,} technical log rows"
        f"{' (quick)' if args.quick else ''}\n"
    )
    print(f"Machine: {h.machine()}.")
    busy = h.busy_processes()
    if busy:
        print(f"Other busy processes while starting (they take CPU from the figures): {', '.join(busy[:5])}.")
    pg_problem = h.pg_available()
    if pg_problem:
        print(f"PostgreSQL at {h.PG_SERVER} is not reachable ({pg_problem}): its figures are left out.")
    print()
    checks: list[tuple[str, bool, str]] = []
    with h.scratch("vern-rights-bench-") as folder:
        for kind in ("pg", "sqlite"):
            if (kind == "pg" and pg_problem) or args.database not in ("both", kind):
                continue
            with h.Backend(kind, folder, "vern_bench_rights") as backend:
                found = bench_backend(backend, sizes, args.people, erasures)
            checks += print_backend(backend, found)
            print(f"({backend.label} took {found['total']:.0f} s in all)\n")
    print("## Targets (issue 7; Fides 2.78.2: 0.30 s access, 0.47 s erasure, ~400 MiB on 1M rows)\n")
    for name, ok, figure in checks:
        print(f"- {name}: {h.verdict(ok)} ({figure})")
    return 0


if __name__ == "__main__":
    h.run(
        main,
        {
            "load": inner_load,
            "people": inner_people,
            "settle": inner_settle,
            "plans": inner_plans,
            "measure": inner_measure,
        },
    )
