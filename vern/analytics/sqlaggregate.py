"""A day's totals worked out by the database: a few ``INSERT … SELECT … GROUP BY`` statements.

The same rules as ``aggregate`` (which keeps the Python version as the reference the tests
compare against): a visit is a visitor's run of hits without a pause of 30 minutes or more (an
engagement report counts from when the page was shown), it belongs to the day it began, it is
followed across midnight through ``visitor_prev``, and it counts only with a page view.

The work is done in temporary tables, each read by plain GROUP BYs (ADR 0023):

1. ``agg_joined``: after-midnight hash → the hash of the visit going on before midnight;
2. ``agg_hits``: the narrow columns of the hits read (id, time, kind, path, engaged time, goal)
   with a visitor number ``wid`` and a visit number ``vid``, from ONE sort by visitor and time:
   ``LAG`` finds a pause, ``DENSE_RANK`` numbers the visitors and a running ``SUM`` of the
   pauses numbers the visits across all visitors. Everything after groups and joins on those
   integers, never on the 32-character hash (ADR 0025);
3. ``agg_visits``: one row per visit that began on the day, with a page view: its views,
   bounce, engaged time and the values of its entry hit (read back by id, so the dimension
   columns are never carried through the sort);

and from those the daily totals (``DailyStat``), the cube (``EntryStat``: one row per day and
per combination of entry values, ADR 0023), the hourly totals (``HourlyStat``) and, from the
cube, the visits per page or goal and source (``ReachStat``, ADR 0028).

What is read: the day's hits, the 30 minutes before it (to tell a visit that began the day
before) and the 6 hours after it (to follow one going on at midnight), through the ``at``
index (on PostgreSQL, the day partitions). Nothing of a row leaves the database, and the
temporary tables hold no IP address; they are dropped before the transaction ends.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connection
from django.db.models import Count, Max, Sum

from vern.analytics.models import DailyStat, EntryStat, Hit, HourlyStat, ReachStat
from vern.analytics.salts import CARRY_OVER
from vern.lib.days import day_start

FOLLOW_INTO_NEXT_DAY = dt.timedelta(hours=6)
Dimension = DailyStat.Dimension

# The dimensions that are a property of the visit's first page view, and their column.
ENTRY_COLUMNS = {
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
# The column of ``EntryStat`` for each entry dimension (``path`` there is the breakdown's value).
CUBE_COLUMNS = {dimension: ("entry" if column == "path" else column) for dimension, column in ENTRY_COLUMNS.items()}
# What a conversion rate is split by (``ReachStat.split``): the cube's column of the same name.
SPLITS = tuple(str(split) for split in ReachStat.Split)
_TEMPORARY = ("agg_visits", "agg_hits", "agg_joined")
# Enough memory for a day's sort by visitor not to spill to disk (PostgreSQL, this transaction only).
WORK_MEM = "64MB"
STATISTICS_TARGET = 10
# Raised when a release works a day's totals out differently, so that the days the job still
# redoes (today, yesterday, any missing) are worked out afresh even where no hit changed.
RULES = 2  # 2: ReachStat (ADR 0028), so that a day an older release worked out again gets its rows


def _seconds(column: str) -> str:
    """A time column as seconds since 1970 (a float), in this database's dialect."""
    if connection.vendor == "postgresql":
        return f"EXTRACT(EPOCH FROM {column})"
    return f"((julianday({column}) - 2440587.5) * 86400.0)"


def _hour(column: str) -> str:
    """The UTC hour a time column falls in, as this database stores a time."""
    if connection.vendor == "postgresql":
        return f"date_trunc('hour', {column})"
    return f"(substr({column}, 1, 13) || ':00:00')"


def _statements(hits: str) -> list[str]:
    pageview, engagement, goal = int(Hit.Kind.PAGEVIEW), int(Hit.Kind.ENGAGEMENT), int(Hit.Kind.GOAL)
    carry = CARRY_OVER.total_seconds()
    at = _seconds("h.at")
    day = "CAST(%(day)s AS date)" if connection.vendor == "postgresql" else "%(day)s"
    # A hash sorts as well byte by byte; PostgreSQL's locale-aware comparison costs far more.
    bytewise = ' COLLATE "C"' if connection.vendor == "postgresql" else ""
    daily = connection.ops.quote_name(DailyStat._meta.db_table)
    cube = connection.ops.quote_name(EntryStat._meta.db_table)
    hourly = connection.ops.quote_name(HourlyStat._meta.db_table)
    reach = connection.ops.quote_name(ReachStat._meta.db_table)
    # Every text the GROUP BYs below sort is compared byte by byte too: the same groups, several
    # times faster than a locale's rules.
    entry_select = ", ".join(
        f"h.{column}{bytewise} AS e_{column}" for column in ENTRY_COLUMNS.values() if column != "channel"
    ) + (
        ", (CASE WHEN h.channel <> '' THEN h.channel WHEN h.referrer_host = '' THEN 'direct' ELSE 'other' END)"
        f"{bytewise} AS e_channel"
    )
    # Distinct visitors in two hashed GROUP BYs (per value and visitor, then per value) rather
    # than COUNT(DISTINCT …), which sorts every group.
    per_entry = "\nUNION ALL\n".join(
        f"SELECT {day}, '{dimension}', e_{column}, COUNT(*), SUM(visits), SUM(views), SUM(bounced), SUM(duration) "  # noqa: S608
        f"FROM (SELECT e_{column}, wid, COUNT(*) AS visits, SUM(views) AS views, SUM(bounced) AS bounced, "
        f"SUM(duration) AS duration FROM agg_visits GROUP BY e_{column}, wid) per_visitor GROUP BY e_{column}"
        for dimension, column in ENTRY_COLUMNS.items()
    )
    per_split = "\nUNION ALL\n".join(
        f"SELECT {day}, dimension, value, '{split}', {split}, SUM(visits) FROM {cube} "  # noqa: S608
        f"WHERE day = {day} AND dimension IN ('page', 'goal') GROUP BY dimension, value, {split} HAVING SUM(visits) > 0"
        for split in SPLITS
    )
    cube_columns = ", ".join(CUBE_COLUMNS.values())
    cube_values = ", ".join(f"v.e_{column}" for column in ENTRY_COLUMNS.values())
    # Hits after a midnight under the new salt name the hash under the old one (visitor_prev);
    # where that hash was seen in the half hour before, it is the same visitor.
    joins = "\nUNION ALL\n".join(
        f"""SELECT a.visitor AS after, MIN(a.visitor_prev) AS before FROM {hits} a
           WHERE a.at >= %({m})s AND a.at < %({m}_carry)s AND a.visitor_prev <> ''
             AND a.visitor_prev IN (SELECT b.visitor FROM {hits} b WHERE b.at >= %({m}_before)s AND b.at < %({m})s)
           GROUP BY a.visitor"""  # noqa: S608 (names are the model's own; values are parameters)
        for m in ("start", "end")
    )
    return [
        f"CREATE TEMPORARY TABLE agg_joined AS SELECT after, MIN(before) AS before FROM ({joins}) j GROUP BY after",  # noqa: S608
        # One sort by visitor and time: LAG and the running SUM share the window.
        f"""CREATE TEMPORARY TABLE agg_hits AS
SELECT DENSE_RANK() OVER (ORDER BY who) AS wid, id, at, kind, path, engaged_ms, goal,
       SUM(fresh) OVER (ORDER BY who, at, id ROWS UNBOUNDED PRECEDING) AS vid
FROM (
  SELECT r.*, CASE WHEN LAG(t) OVER w IS NULL OR began - LAG(t) OVER w >= {carry} THEN 1 ELSE 0 END AS fresh
  FROM (
    SELECT COALESCE(j.before, h.visitor){bytewise} AS who, h.id, h.at, h.kind, h.path{bytewise} AS path,
           h.engaged_ms, h.goal{bytewise} AS goal,
           {at} AS t,
           {at} - CASE WHEN h.kind = {engagement} THEN h.engaged_ms / 1000.0 ELSE 0 END AS began
    FROM {hits} h LEFT JOIN agg_joined j ON j.after = h.visitor
    WHERE h.at >= %(window_start)s AND h.at < %(window_end)s
  ) r
  WINDOW w AS (PARTITION BY who ORDER BY at, id)
) p""",  # noqa: S608
        # One row per visit that began on the day and has a page view; its entry hit is its
        # first page view (by time, then id), whose values are read back by id.
        f"""CREATE TEMPORARY TABLE agg_visits AS
SELECT s.wid, s.vid, s.began_at, s.views, s.duration, CASE WHEN s.views = 1 THEN 1 ELSE 0 END AS bounced,
       {entry_select}
FROM (
  SELECT v.wid, v.vid, v.began_at, v.views, v.duration, MIN(a.id) AS entry_id
  FROM (
    SELECT wid, vid, MIN(at) AS began_at, SUM(CASE WHEN kind = {pageview} THEN 1 ELSE 0 END) AS views,
           SUM(engaged_ms) AS duration, MIN(CASE WHEN kind = {pageview} THEN at END) AS entry_at
    FROM agg_hits GROUP BY wid, vid
  ) v JOIN agg_hits a ON a.vid = v.vid AND a.at = v.entry_at AND a.kind = {pageview}
  WHERE v.began_at >= %(start)s AND v.began_at < %(end)s AND v.views > 0
  GROUP BY v.wid, v.vid, v.began_at, v.views, v.duration
) s JOIN {hits} h ON h.id = s.entry_id AND h.at >= %(window_start)s AND h.at < %(window_end)s""",  # noqa: S608
        f"""INSERT INTO {daily} (day, dimension, value, visitors, visits, pageviews, bounces, duration_ms)
SELECT {day}, 'total', '', COUNT(DISTINCT wid), COUNT(*), COALESCE(SUM(views), 0), COALESCE(SUM(bounced), 0),
       COALESCE(SUM(duration), 0) FROM agg_visits
UNION ALL
{per_entry}
UNION ALL
SELECT {day}, 'page', path, SUM(seen), SUM(visits), SUM(views), SUM(bounces), SUM(engaged)
FROM (
  SELECT path, wid, MAX(CASE WHEN views > 0 THEN 1 ELSE 0 END) AS seen, SUM(CASE WHEN views > 0 THEN 1 ELSE 0 END)
         AS visits, SUM(views) AS views, SUM(CASE WHEN views > 0 THEN bounced ELSE 0 END) AS bounces,
         SUM(engaged) AS engaged
  FROM (
    SELECT a.wid, a.vid, a.path, MAX(v.bounced) AS bounced,
           SUM(CASE WHEN a.kind = {pageview} THEN 1 ELSE 0 END) AS views,
           SUM(CASE WHEN a.kind = {engagement} THEN a.engaged_ms ELSE 0 END) AS engaged
    FROM agg_hits a JOIN agg_visits v ON v.vid = a.vid
    WHERE a.kind IN ({pageview}, {engagement}) GROUP BY a.wid, a.vid, a.path
  ) per_visit GROUP BY path, wid
) per_visitor GROUP BY path
UNION ALL
SELECT {day}, 'goal', goal, COUNT(*), SUM(visits), SUM(fired), SUM(bounced), SUM(duration)
FROM (
  SELECT goal, wid, COUNT(*) AS visits, SUM(fired) AS fired, SUM(bounced) AS bounced, SUM(duration) AS duration
  FROM (
    SELECT a.wid, a.vid, a.goal, COUNT(*) AS fired, MAX(v.bounced) AS bounced, MAX(v.duration) AS duration
    FROM agg_hits a JOIN agg_visits v ON v.vid = a.vid
    WHERE a.kind = {goal} AND a.goal <> '' GROUP BY a.wid, a.vid, a.goal
  ) per_visit GROUP BY goal, wid
) per_visitor GROUP BY goal""",  # noqa: S608
        # The cube: the visits per combination of entry values, the pages they saw, the goals
        # they reached. No visitor figure: distinct counts do not add up across rows.
        f"""INSERT INTO {cube} (day, {cube_columns}, dimension, value, visits, pageviews, bounces, duration_ms)
SELECT {day}, {cube_values}, 'total', '', COUNT(*), SUM(v.views), SUM(v.bounced), SUM(v.duration)
FROM agg_visits v GROUP BY {cube_values}
UNION ALL
SELECT {day}, {cube_values}, 'page', p.path, SUM(CASE WHEN p.views > 0 THEN 1 ELSE 0 END), SUM(p.views),
       SUM(CASE WHEN p.views > 0 THEN v.bounced ELSE 0 END), SUM(p.engaged)
FROM (
  SELECT a.wid, a.vid, a.path, SUM(CASE WHEN a.kind = {pageview} THEN 1 ELSE 0 END) AS views,
         SUM(CASE WHEN a.kind = {engagement} THEN a.engaged_ms ELSE 0 END) AS engaged
  FROM agg_hits a WHERE a.kind IN ({pageview}, {engagement}) GROUP BY a.wid, a.vid, a.path
) p JOIN agg_visits v ON v.vid = p.vid
GROUP BY {cube_values}, p.path
UNION ALL
SELECT {day}, {cube_values}, 'goal', g.goal, COUNT(*), SUM(g.fired), SUM(v.bounced), SUM(v.duration)
FROM (
  SELECT a.wid, a.vid, a.goal, COUNT(*) AS fired FROM agg_hits a
  WHERE a.kind = {goal} AND a.goal <> '' GROUP BY a.wid, a.vid, a.goal
) g JOIN agg_visits v ON v.vid = g.vid
GROUP BY {cube_values}, g.goal""",  # noqa: S608
        # Hourly: visits and visitors by the hour the visit began, page views by the hour seen.
        f"""INSERT INTO {hourly} (hour, day, visitors, visits, pageviews)
SELECT hour, {day}, SUM(visitors), SUM(visits), SUM(pageviews) FROM (
  SELECT {_hour("began_at")} AS hour, COUNT(DISTINCT wid) AS visitors, COUNT(*) AS visits, 0 AS pageviews
  FROM agg_visits GROUP BY {_hour("began_at")}
  UNION ALL
  SELECT {_hour("a.at")}, 0, 0, COUNT(*) FROM agg_hits a JOIN agg_visits v ON v.vid = a.vid
  WHERE a.kind = {pageview} GROUP BY {_hour("a.at")}
) per_hour GROUP BY hour""",  # noqa: S608
        # The cube's page and goal rows of the day, added up per source, campaign source and campaign:
        # what an unfiltered conversion rate reads (ADR 0028).
        f"INSERT INTO {reach} (day, dimension, value, split, split_value, visits)\n{per_split}",
    ]


def _moment(value: dt.datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(value)


def window(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The times of the hits that ``day``'s totals read: from the half hour before it (to tell a
    visit begun the day before) to six hours after it (to follow one going on at midnight)."""
    return day_start(day) - CARRY_OVER, day_start(day + dt.timedelta(days=1)) + FOLLOW_INTO_NEXT_DAY


def counted(day: dt.date) -> tuple[int, int, int]:
    """(how many, the sum of their ids, the largest id) of the hits in ``day``'s window: any hit
    stored or deleted there changes one of them, since ids only grow (ADR 0026)."""
    first, last = window(day)
    found = Hit.objects.filter(at__gte=first, at__lt=last).aggregate(hits=Count("id"), sum=Sum("id"), newest=Max("id"))
    return int(found["hits"]), int(found["sum"] or 0), int(found["newest"] or 0)


def insert_day(day: dt.date) -> None:
    """Insert ``day``'s totals, cube, hourly totals and visits per page and source (the caller has
    deleted the old ones, in the same transaction)."""
    start, end = day_start(day), day_start(day + dt.timedelta(days=1))
    first, last = window(day)
    params = {
        "day": connection.ops.adapt_datefield_value(day),
        "start": _moment(start),
        "end": _moment(end),
        "window_start": _moment(first),
        "window_end": _moment(last),
        "start_carry": _moment(start + CARRY_OVER),
        "end_carry": _moment(end + CARRY_OVER),
        "start_before": _moment(start - CARRY_OVER),
        "end_before": _moment(end - CARRY_OVER),
    }
    postgres = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        for table in _TEMPORARY:
            cursor.execute(f"DROP TABLE IF EXISTS {table}")
        if postgres:
            cursor.execute(f"SET LOCAL work_mem = '{WORK_MEM}'")
            # The temporary tables' statistics need only tell thousands of rows from a handful: a
            # sample of 3,000 rows (not 30,000) plans the joins below the same, in a tenth of the time.
            cursor.execute(f"SET LOCAL default_statistics_target = {STATISTICS_TARGET}")
        for number, sql in enumerate(_statements(connection.ops.quote_name(Hit._meta.db_table))):
            cursor.execute(sql, params if "%(" in sql else None)
            if postgres and number < 3:
                # A temporary table has no statistics until analysed; without them the joins below
                # are planned for a handful of rows.
                cursor.execute(f"ANALYZE {_TEMPORARY[2 - number]}")
        for table in _TEMPORARY:
            cursor.execute(f"DROP TABLE {table}")
