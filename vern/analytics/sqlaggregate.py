"""A day's totals worked out by the database: one ``INSERT … SELECT … GROUP BY`` statement.

The same rules as ``aggregate`` (which keeps the Python version for filtered breakdowns and
as the reference the tests compare against): a visit is a visitor's run of hits without a
pause of 30 minutes or more (an engagement report counts from when the page was shown), it
belongs to the day it began, it is followed across midnight through ``visitor_prev``, and it
counts only with a page view. Window functions (``LAG``, running ``SUM``, ``ROW_NUMBER``)
number the visits; PostgreSQL and SQLite (3.25 or newer) both run them. Only the reading of a
time as seconds differs between the two.

What is read: the day's hits, the 30 minutes before it (to tell a visit that began the day
before) and the 6 hours after it (to follow one going on at midnight), through the ``at``
index (on PostgreSQL, the day partitions). Nothing of a row leaves the database.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connection

from vern.analytics.models import DailyStat, Hit
from vern.analytics.salts import CARRY_OVER, day_start

FOLLOW_INTO_NEXT_DAY = dt.timedelta(hours=6)
Dimension = DailyStat.Dimension

# The dimensions that are a property of the visit's first page view.
_ENTRY = {
    Dimension.ENTRY: "path",
    Dimension.REFERRER: "referrer_host",
    Dimension.BROWSER: "browser",
    Dimension.OS: "os",
    Dimension.DEVICE: "device",
    Dimension.CHANNEL: "channel",
    Dimension.UTM_SOURCE: "utm_source",
    Dimension.UTM_MEDIUM: "utm_medium",
    Dimension.UTM_CAMPAIGN: "utm_campaign",
    Dimension.COUNTRY: "country",
}


def _seconds(column: str) -> str:
    """A time column as seconds since 1970 (a float), in this database's dialect."""
    if connection.vendor == "postgresql":
        return f"EXTRACT(EPOCH FROM {column})"
    return f"((julianday({column}) - 2440587.5) * 86400.0)"


def _statement(table: str, hits: str) -> str:
    pageview, engagement, goal = int(Hit.Kind.PAGEVIEW), int(Hit.Kind.ENGAGEMENT), int(Hit.Kind.GOAL)
    carry = CARRY_OVER.total_seconds()
    at = _seconds("h.at")
    day = "CAST(%(day)s AS date)" if connection.vendor == "postgresql" else "%(day)s"
    # A hash sorts as well byte by byte; PostgreSQL's locale-aware comparison costs far more.
    bytewise = ' COLLATE "C"' if connection.vendor == "postgresql" else ""
    entry_columns = ", ".join(f"{column} AS e_{column}" for column in _ENTRY.values())
    per_entry = "\nUNION ALL\n".join(
        f"SELECT {day}, '{dimension}', e_{column}, COUNT(DISTINCT who), COUNT(*), SUM(views), SUM(bounced), "  # noqa: S608
        f"SUM(duration) FROM visits GROUP BY e_{column}"
        for dimension, column in _ENTRY.items()
    )
    # Hits after a midnight under the new salt name the hash under the old one (visitor_prev);
    # where that hash was seen in the half hour before, it is the same visitor.
    joins = "\nUNION ALL\n".join(
        f"""SELECT a.visitor AS after, MIN(a.visitor_prev) AS before FROM {hits} a
           WHERE a.at >= %({m})s AND a.at < %({m}_carry)s AND a.visitor_prev <> ''
             AND EXISTS (SELECT 1 FROM {hits} b WHERE b.visitor = a.visitor_prev
                         AND b.at >= %({m}_before)s AND b.at < %({m})s)
           GROUP BY a.visitor"""  # noqa: S608 (names are the model's own; values are parameters)
        for m in ("start", "end")
    )
    return f"""
WITH joined AS ({joins}),
hits_in AS (
  SELECT COALESCE(j.before, h.visitor){bytewise} AS who, h.id, h.at, h.kind, h.path, h.engaged_ms, h.goal,
         h.referrer_host, h.browser, h.os, h.device, h.utm_source, h.utm_medium, h.utm_campaign, h.country,
         CASE WHEN h.channel <> '' THEN h.channel WHEN h.referrer_host = '' THEN 'direct' ELSE 'other' END
           AS channel,
         {at} AS t,
         {at} - CASE WHEN h.kind = {engagement} THEN h.engaged_ms / 1000.0 ELSE 0 END AS began
  FROM {hits} h LEFT JOIN (SELECT after, MIN(before) AS before FROM joined GROUP BY after) j
    ON j.after = h.visitor
  WHERE h.at >= %(window_start)s AND h.at < %(window_end)s
),
paused AS (
  SELECT r.*, CASE WHEN LAG(t) OVER w IS NULL OR began - LAG(t) OVER w >= {carry} THEN 1 ELSE 0 END AS fresh
  FROM hits_in r WINDOW w AS (PARTITION BY who ORDER BY at, id)
),
numbered AS (
  SELECT p.*, SUM(fresh) OVER (PARTITION BY who ORDER BY at, id ROWS UNBOUNDED PRECEDING) AS visit
  FROM paused p
),
ranked AS (
  SELECT n.*,
         ROW_NUMBER() OVER (PARTITION BY who, visit, kind ORDER BY at, id) AS nth_of_kind,
         ROW_NUMBER() OVER (PARTITION BY who, visit, kind, path ORDER BY at, id) AS nth_on_path,
         ROW_NUMBER() OVER (PARTITION BY who, visit, kind, goal ORDER BY at, id) AS nth_of_goal,
         MIN(at) OVER v AS visit_began,
         SUM(CASE WHEN kind = {pageview} THEN 1 ELSE 0 END) OVER v AS views,
         SUM(engaged_ms) OVER v AS duration
  FROM numbered n WINDOW v AS (PARTITION BY who, visit)
),
counted AS (
  SELECT r.*, CASE WHEN views = 1 THEN 1 ELSE 0 END AS bounced, duration AS visit_duration
  FROM ranked r WHERE visit_began >= %(start)s AND visit_began < %(end)s AND views > 0
),
visits AS (
  SELECT who, visit, views, duration, bounced, {entry_columns}
  FROM counted WHERE kind = {pageview} AND nth_of_kind = 1
)
INSERT INTO {table} (day, dimension, value, visitors, visits, pageviews, bounces, duration_ms)
SELECT {day}, 'total', '', COUNT(DISTINCT who), COUNT(*), COALESCE(SUM(views), 0), COALESCE(SUM(bounced), 0),
       COALESCE(SUM(duration), 0) FROM visits
UNION ALL
{per_entry}
UNION ALL
SELECT {day}, 'page', path,
       COUNT(DISTINCT CASE WHEN kind = {pageview} THEN who END),
       SUM(CASE WHEN kind = {pageview} AND nth_on_path = 1 THEN 1 ELSE 0 END),
       SUM(CASE WHEN kind = {pageview} THEN 1 ELSE 0 END),
       SUM(CASE WHEN kind = {pageview} AND nth_on_path = 1 THEN bounced ELSE 0 END),
       SUM(CASE WHEN kind = {engagement} THEN engaged_ms ELSE 0 END)
FROM counted WHERE kind IN ({pageview}, {engagement}) GROUP BY path
UNION ALL
SELECT {day}, 'goal', goal, COUNT(DISTINCT who), SUM(CASE WHEN nth_of_goal = 1 THEN 1 ELSE 0 END), COUNT(*),
       SUM(CASE WHEN nth_of_goal = 1 THEN bounced ELSE 0 END),
       SUM(CASE WHEN nth_of_goal = 1 THEN visit_duration ELSE 0 END)
FROM counted WHERE kind = {goal} AND goal <> '' GROUP BY goal
"""  # noqa: S608 (table and column names are the model's own; every value is a parameter)


def _moment(value: dt.datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(value)


def insert_day(day: dt.date) -> None:
    """Insert ``day``'s totals (the caller has deleted the old ones, in the same transaction)."""
    start, end = day_start(day), day_start(day + dt.timedelta(days=1))
    quote = connection.ops.quote_name
    params = {
        "day": connection.ops.adapt_datefield_value(day),
        "start": _moment(start),
        "end": _moment(end),
        "window_start": _moment(start - CARRY_OVER),
        "window_end": _moment(end + FOLLOW_INTO_NEXT_DAY),
        "start_carry": _moment(start + CARRY_OVER),
        "end_carry": _moment(end + CARRY_OVER),
        "start_before": _moment(start - CARRY_OVER),
        "end_before": _moment(end - CARRY_OVER),
    }
    sql = _statement(quote(DailyStat._meta.db_table), quote(Hit._meta.db_table))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
