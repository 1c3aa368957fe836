"""Breakdowns filtered by each other, from the cube of daily totals per entry; hourly totals;
conversion rates per source and campaign (issue 20, ADR 0023)."""

from __future__ import annotations

import csv
import datetime as dt
import importlib
import io
import random
import re
from collections import defaultdict
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from vern.accounts.testing import staff_login
from vern.analytics import goals, selectors
from vern.analytics.aggregate import aggregate_day, tally_day
from vern.analytics.buffer import BUFFER, HIT_COLUMNS
from vern.analytics.models import (
    DailyStat,
    EntryStat,
    Goal,
    Hit,
    HourlyStat,
    PatternReach,
    ReachStat,
    TotalledDay,
)
from vern.analytics.sources import channel_of
from vern.analytics.sqlaggregate import CUBE_COLUMNS, SPLITS

pytestmark = pytest.mark.django_db
OSLO = ZoneInfo("Europe/Oslo")
DAY = dt.date(2026, 11, 20)  # in the past, so the dashboard does not work today out from raw hits


def at(hour: int, minute: int = 0, day: dt.date = DAY) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=OSLO)


def hit(when, visitor, path="/", kind=Hit.Kind.PAGEVIEW, **values):
    values.setdefault("referrer_host", "")
    values.update(at=when, kind=kind, source=1, visitor=visitor, path=path, ip="192.0.2.0")
    values.setdefault("channel", channel_of(values["referrer_host"]))
    BUFFER.add_hit(tuple(values.get(column, 0 if column == "engaged_ms" else "") for column in HIT_COLUMNS))


def random_day(seed: int) -> None:
    """60 visitors with hits over 27 hours around DAY, some across both midnights."""
    chance = random.Random(seed)
    kinds = [Hit.Kind.PAGEVIEW] * 6 + [Hit.Kind.ENGAGEMENT] * 3 + [Hit.Kind.GOAL]
    for n in range(60):
        when = at(0) - dt.timedelta(hours=1) + dt.timedelta(minutes=chance.randrange(27 * 60))
        who, previous = f"v{n}", ""
        for _ in range(chance.randrange(1, 10)):
            when += dt.timedelta(minutes=chance.choice([1, 5, 20, 29, 31, 45, 90]))
            kind = chance.choice(kinds)
            local = when.astimezone(OSLO)
            if local.hour == 0 and local.minute < 30 and not previous:
                who, previous = f"{who}-next", who
            hit(
                when,
                who,
                chance.choice(["/", "/demo/", "/contact/"]),
                kind,
                visitor_prev=previous,
                referrer_host=chance.choice(["", "google.com", "example.org"]),
                engaged_ms=chance.randrange(1, 600_000) if kind == Hit.Kind.ENGAGEMENT else 0,
                goal=chance.choice(["signup", "call"]) if kind == Hit.Kind.GOAL else "",
                country=chance.choice(["", "NO", "SE"]),
                browser=chance.choice(["Firefox", "Chrome"]),
                utm_campaign=chance.choice(["", "", "spring"]),
            )
    BUFFER.flush()


FILTER_SETS = [
    {"country": "NO"},
    {"channel": "search", "browser": "Firefox"},
    {"utm_campaign": "spring", "country": "SE"},
    {"entry": "/demo/", "referrer": ""},
]


@pytest.mark.parametrize("filters", FILTER_SETS, ids=lambda f: ",".join(f))
def test_every_filtered_breakdown_from_the_cube_equals_the_python_reference_over_the_raw_hits(filters):
    random_day(23)
    aggregate_day(DAY)
    reference = tally_day(DAY, filters)
    assert reference[("total", "")].visits > 0, "the filter selects some visits"
    for dimension in selectors.BREAKDOWNS:
        expected = {
            value: (t.visits, t.pageviews, t.bounces, t.duration_ms)
            for (name, value), t in reference.items()
            if name == dimension
        }
        rows = selectors.breakdown(dimension, DAY, DAY, filters, limit=1000)
        assert {r.value: (r.visits, r.pageviews, r.bounces, r.duration_ms) for r in rows} == expected, dimension
        assert all(r.visitors is None for r in rows), "no visitor figure is made up under a filter"
    board = selectors.dashboard(selectors.Period(DAY, DAY), top=1, filters=filters)
    for dimension, listed in board.top.items():
        values = {value for (name, value) in reference if name == dimension}
        assert (listed.distinct, listed.more) == (len(values), max(len(values) - 1, 0)), dimension
    # The dashboard reads the lists in two queries: the same rows, in the same order,
    # as each breakdown on its own.
    board = selectors.dashboard(selectors.Period(DAY, DAY), top=3, filters=filters)
    for dimension, listed in board.top.items():
        assert listed.rows == selectors.breakdown(dimension, DAY, DAY, filters, limit=3), dimension
    assert board.totals.visits == reference[("total", "")].visits and not board.totals.visitors_known


def test_the_filtered_dashboard_gives_each_day_its_own_visits_in_five_queries(django_assert_num_queries):
    random_day(23)
    days = [DAY - dt.timedelta(days=1), DAY, DAY + dt.timedelta(days=1)]
    for day in days:
        aggregate_day(day)
    period = selectors.Period(days[0], DAY + dt.timedelta(days=2))  # its last day has no visits
    filters = {"country": "NO"}
    # The series with the entry lists, the pages and goals, the previous period, and two for what was dropped.
    with django_assert_num_queries(5):
        board = selectors.dashboard(period, filters=filters)
    expected = {day: tally_day(day, filters)[("total", "")] for day in period.dates()}
    assert [(d.day, d.visits, d.pageviews) for d in board.days] == [
        (day, t.visits, t.pageviews) for day, t in expected.items()
    ]
    assert sum(t.visits for t in expected.values()) > expected[DAY].visits > 0, "visits on more than one day"
    assert (board.totals.visits, board.totals.pageviews, board.totals.bounces, board.totals.duration_ms) == (
        sum(t.visits for t in expected.values()),
        sum(t.pageviews for t in expected.values()),
        sum(t.bounces for t in expected.values()),
        sum(t.duration_ms for t in expected.values()),
    )


def test_the_cube_adds_up_to_the_daily_totals_and_rerunning_changes_nothing():
    random_day(7)
    aggregate_day(DAY)
    first = sorted(EntryStat.objects.filter(day=DAY).values_list(*[f.name for f in EntryStat._meta.fields][1:]))
    total = DailyStat.objects.get(day=DAY, dimension="total")
    cube = selectors.cube_rows(selectors.Period(DAY, DAY), {})
    for dimension in ("total", "page", "goal"):
        # Every value of the daily totals is in the cube and the reverse: a missing kind of row fails here.
        values = set(DailyStat.objects.filter(day=DAY, dimension=dimension).values_list("value", flat=True))
        assert values and values == set(cube.filter(dimension=dimension).values_list("value", flat=True))
        for value in values:
            daily = DailyStat.objects.get(day=DAY, dimension=dimension, value=value)
            rows = cube.filter(dimension=dimension, value=value)
            assert sum(r.visits for r in rows) == daily.visits
            assert sum(r.pageviews for r in rows) == daily.pageviews
            assert sum(r.bounces for r in rows) == daily.bounces
            assert sum(r.duration_ms for r in rows) == daily.duration_ms
    assert total.visits > 20
    aggregate_day(DAY)
    assert sorted(EntryStat.objects.filter(day=DAY).values_list(*[f.name for f in EntryStat._meta.fields][1:])) == first


def test_hourly_totals_add_up_to_the_day_and_are_replaced_on_a_rerun():
    hit(at(9, 10), "kari", "/")
    hit(at(9, 50), "kari", "/demo/")  # 40 minutes later: a second visit, begun in the same hour
    hit(at(10, 5), "kari", "/contact/")  # that visit goes on: a page view in the next hour
    hit(at(14, 0), "ola", "/")
    BUFFER.flush()
    aggregate_day(DAY)
    aggregate_day(DAY)
    hours = {
        h.hour.astimezone(OSLO).hour: (h.visitors, h.visits, h.pageviews)
        for h in selectors.hourly_series(at(0), at(0) + dt.timedelta(days=1))
        if h.visits or h.pageviews
    }
    assert hours == {9: (1, 2, 2), 10: (0, 0, 1), 14: (1, 1, 1)}
    daily = DailyStat.objects.get(day=DAY, dimension="total")
    assert sum(v for _, v, _ in hours.values()) == daily.visits
    assert sum(p for _, _, p in hours.values()) == daily.pageviews
    assert HourlyStat.objects.filter(day=DAY).count() == 3


def test_conversion_rate_per_source_and_campaign_for_page_and_beacon_goals():
    Goal.objects.create(name="Saw the demo page", kind=Goal.Kind.PAGE, match="/demo/*")
    for n in range(4):  # four visits from a search, one of them reaches the demo page and signs up
        hit(at(9, n), f"s{n}", "/", referrer_host="google.com", utm_campaign="spring")
    hit(at(9, 10), "s0", "/demo/")
    hit(at(9, 11), "s0", "/demo/", Hit.Kind.GOAL, goal="signup")
    hit(at(12), "d", "/demo/")  # a direct visit straight to the demo page
    BUFFER.flush()
    aggregate_day(DAY)
    rates = {
        (r.goal, r.dimension, r.value): (r.conversions, r.visits)
        for r in goals.conversion_rates(selectors.Period(DAY, DAY), limit=None)
    }
    assert rates[("Saw the demo page", "channel", "search")] == (1, 4)
    assert rates[("Saw the demo page", "channel", "direct")] == (1, 1)
    assert rates[("signup", "utm_campaign", "spring")] == (1, 4)
    assert ("signup", "channel", "direct") not in rates
    only_direct = goals.conversion_rates(selectors.Period(DAY, DAY), {"channel": "direct"}, limit=None)
    assert {(r.goal, r.value) for r in only_direct if r.dimension == "channel"} == {("Saw the demo page", "direct")}

    # Once staff define a click goal for it, the name fired from the page shows as that goal.
    Goal.objects.create(name="Sign-ups", kind=Goal.Kind.EVENT, match="signup")
    named = {(r.goal, r.dimension, r.value) for r in goals.conversion_rates(selectors.Period(DAY, DAY), limit=None)}
    assert ("Sign-ups", "utm_campaign", "spring") in named and not any(goal == "signup" for goal, _, _ in named)

    # A page-view goal that reads like a name fired from the page that no goal names: two rows, not one sum.
    Goal.objects.filter(name="Sign-ups").delete()
    Goal.objects.create(name="signup", kind=Goal.Kind.PAGE, match="/demo/*")
    for filters in ({}, {"channel": "search"}):
        both = [
            r.conversions
            for r in goals.conversion_rates(selectors.Period(DAY, DAY), filters, limit=None)
            if (r.goal, r.dimension, r.value) == ("signup", "channel", "search")
        ]
        assert both == [1, 1]


def campaign_visits() -> None:
    """Visits from a newsletter's two campaigns, on top of ``random_day``'s (which have none)."""
    for n, campaign in enumerate(["spring", "spring", "autumn"]):
        hit(at(8, n), f"c{n}", "/", utm_source="newsletter", utm_medium="email", utm_campaign=campaign)
        hit(at(8, 10 + n), f"c{n}", "/demo/")
        hit(at(8, 20 + n), f"c{n}", "/demo/", Hit.Kind.GOAL, goal="signup")
    BUFFER.flush()


def reach_rows() -> dict[tuple[str, str, str, str], int]:
    return {(r.dimension, r.value, r.split, r.split_value): r.visits for r in ReachStat.objects.filter(day=DAY)}


def test_the_visits_per_page_and_source_add_up_the_cube_and_rerunning_changes_nothing():
    random_day(11)
    campaign_visits()
    aggregate_day(DAY)
    expected: dict[tuple[str, str, str, str], int] = defaultdict(int)
    for row in EntryStat.objects.filter(day=DAY, dimension__in=("page", "goal")):
        for split in SPLITS:
            expected[(row.dimension, row.value, split, getattr(row, split))] += row.visits
    expected = {key: visits for key, visits in expected.items() if visits}
    assert reach_rows() == expected
    assert {"search", "direct", "other"} <= {value for _, _, split, value in expected if split == "channel"}
    assert ("goal", "signup", "utm_campaign", "spring") in expected
    assert ("page", "/demo/", "utm_source", "newsletter") in expected
    aggregate_day(DAY)
    assert reach_rows() == expected

    # The migration fills them in for the days the cube already holds, from the cube: the same rows.
    migration = importlib.import_module("vern.analytics.migrations.0009_reach_per_source")
    ReachStat.objects.all().delete()
    with connection.cursor() as cursor:
        cursor.execute(migration.Migration.operations[-1].sql)
    assert reach_rows() == expected


def reference_rates(filters: dict[str, str]) -> dict[tuple[str, str, str], tuple[int, int]]:
    """Conversion rates added up in Python from the cube's rows, row by row."""
    page_goals = dict(Goal.objects.filter(kind=Goal.Kind.PAGE).values_list("name", "match"))
    click_goals = dict(Goal.objects.filter(kind=Goal.Kind.EVENT).values_list("match", "name"))
    reached: dict[tuple[str, str, str], int] = defaultdict(int)
    visits: dict[tuple[str, str], int] = defaultdict(int)
    for row in EntryStat.objects.filter(day=DAY):
        if any(getattr(row, CUBE_COLUMNS[DailyStat.Dimension(name)]) != value for name, value in filters.items()):
            continue
        for split in SPLITS:
            value = getattr(row, split)
            if row.dimension == "total":
                visits[(split, value)] += row.visits
            elif row.dimension == "goal":
                reached[(click_goals.get(row.value, row.value), split, value)] += row.visits
            else:
                for name, pattern in page_goals.items():
                    if goals.matches(pattern, row.value):
                        reached[(name, split, value)] += row.visits
    return {(goal, split, value): (n, visits[(split, value)]) for (goal, split, value), n in reached.items() if n}


@pytest.mark.parametrize("in_list", [goals.IN_LIST, 0])
def test_conversion_rates_with_and_without_a_filter_equal_the_cube_added_up_row_by_row(monkeypatch, in_list):
    """Unfiltered they are read from the visits per page and source, filtered from the cube; both
    give what the cube's rows add up to. With ``in_list`` 0, every page's rows are read and
    matched in Python instead of looked up by name (a goal matching many pages)."""
    monkeypatch.setattr(goals, "IN_LIST", in_list)
    random_day(5)
    campaign_visits()
    aggregate_day(DAY)
    Goal.objects.create(name="Demo", kind=Goal.Kind.PAGE, match="/demo/*")
    Goal.objects.create(name="Any page", kind=Goal.Kind.PAGE, match="/*")  # /demo/ matches both
    Goal.objects.create(name="Sign-ups", kind=Goal.Kind.EVENT, match="signup")
    Goal.objects.create(name="Never", kind=Goal.Kind.PAGE, match="/nowhere/*")
    for filters in ({}, {"channel": "search"}, {"utm_campaign": "spring"}):
        found = {
            (r.goal, r.dimension, r.value): (r.conversions, r.visits)
            for r in goals.conversion_rates(selectors.Period(DAY, DAY), filters, limit=None)
        }
        assert found == reference_rates(filters)
        assert {"Demo", "Any page", "Sign-ups"} <= {goal for goal, _, _ in found}
    assert ("Sign-ups", "utm_campaign", "spring") in found and not any(goal == "Never" for goal, _, _ in found)


def rates_of(filters: dict[str, str] | None = None) -> dict[tuple[str, str, str], tuple[int, int]]:
    return {
        (r.goal, r.dimension, r.value): (r.conversions, r.visits)
        for r in goals.conversion_rates(selectors.Period(DAY, DAY), filters, limit=None)
    }


def test_a_page_goals_rates_are_added_up_once_and_read_only_while_the_day_is_not_worked_out_again(
    personas, django_capture_on_commit_callbacks
):
    """``PatternReach``: the job (and adding a page-view goal) adds each pattern's pages up per day;
    the rates read those rows while they come from the day's current totals, and once the day is
    worked out again (a late hit) they are no longer read, until the job adds them up again."""
    from vern.analytics.reading_services import goal_create
    from vern.analytics.services import analytics_aggregate

    random_day(3)
    campaign_visits()
    aggregate_day(DAY)
    with django_capture_on_commit_callbacks(execute=True):
        goal_create(actor=personas.privacy_officer, name="Demo", kind=Goal.Kind.PAGE, match="/demo/*")
    added = {(r.split, r.split_value): r.visits for r in PatternReach.objects.filter(pattern="/demo/*", day=DAY)}
    demo = {(r.split, r.split_value): r.visits for r in ReachStat.objects.filter(day=DAY, value="/demo/")}
    assert added == {("", ""): 0, **demo}  # the marker, and the one page the pattern matches
    assert rates_of() == reference_rates({}) and rates_of()[("Demo", "utm_source", "newsletter")] == (3, 3)

    # The rates read the rows added up: the visits per page and source they came from are not read again.
    kept = list(ReachStat.objects.filter(day=DAY, dimension="page").values_list("pk", flat=True))
    ReachStat.objects.filter(pk__in=kept).update(visits=999)
    assert rates_of() == reference_rates({})
    aggregate_day(DAY)  # the same hits: the totals are the same (the ReachStat rows written afresh)

    hit(at(20), "late", "/", utm_source="newsletter", utm_campaign="spring")  # a visit stored late
    hit(at(20, 5), "late", "/demo/")
    BUFFER.flush()
    aggregate_day(DAY)  # the day is worked out again: the rows added up before are out of date
    assert PatternReach.objects.filter(pattern="/demo/*", day=DAY).exists()
    assert rates_of()[("Demo", "utm_source", "newsletter")] == (4, 4) and rates_of() == reference_rates({})
    analytics_aggregate(now=at(12, day=DAY + dt.timedelta(days=1)))  # the hourly job adds them up again
    newsletter = PatternReach.objects.get(pattern="/demo/*", day=DAY, split="utm_source", split_value="newsletter")
    assert newsletter.visits == 4
    assert PatternReach.objects.filter(pattern="/demo/*", day=DAY).values("totalled_at").distinct().count() == 1
    assert rates_of() == reference_rates({})

    Goal.objects.all().delete()  # a pattern no goal has any more is forgotten by the next run
    analytics_aggregate(now=at(13, day=DAY + dt.timedelta(days=1)))
    assert not PatternReach.objects.exists()


def test_conversion_rates_count_the_visits_of_the_days_the_cube_still_has():
    """The visits per source come from the daily totals (a few rows a day, not a scan of the cube),
    but only over the days whose cube is kept: the conversions are counted from the cube, and a
    rate over a period reaching back past it would count visits without their conversions."""
    old = DAY - dt.timedelta(days=40)
    for day in (old, DAY):
        for n in range(4):
            hit(at(9, n, day=day), f"v{n}", "/", referrer_host="google.com")
        hit(at(9, 10, day=day), "v0", "/demo/", Hit.Kind.GOAL, goal="signup")
    BUFFER.flush()
    aggregate_day(old)
    aggregate_day(DAY)
    EntryStat.objects.filter(day=old).delete()  # as forget_old_cube leaves it after the hits' month

    def rates(period: selectors.Period) -> dict[tuple[str, str, str], tuple[int, int]]:
        return {(r.goal, r.dimension, r.value): (r.conversions, r.visits) for r in goals.conversion_rates(period)}

    both = rates(selectors.Period(old, DAY))
    assert both[("signup", "channel", "search")] == (1, 4)  # not (1, 8): the old day's visits are left out
    assert both == rates(selectors.Period(DAY, DAY))
    assert rates(selectors.Period(old, old)) == {}


def text(response) -> str:
    return re.sub(r"[ \t\r\n]+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


@pytest.fixture
def day_of_visits():
    hit(at(9), "kari", "/", referrer_host="google.com", country="NO")
    hit(at(9, 1), "kari", "/demo/", country="NO")
    hit(at(10), "ola", "/contact/", country="SE")
    hit(at(11), "per", "/", country="NO")
    BUFFER.flush()
    aggregate_day(DAY)


RANGE = f"range=custom&start={DAY}&end={DAY}"


def test_staff_filter_the_dashboard_by_a_row_and_remove_the_filter_again(client, personas, day_of_visits):
    staff_login(client, personas.sales)
    whole = client.get(f"/en/staff/analytics/?{RANGE}").content.decode()
    assert "filter=country:NO" in whole, "a country row links to the dashboard filtered by it"

    response = client.get(f"/en/staff/analytics/?{RANGE}&filter=country:NO")
    page = text(response)
    assert response.status_code == 200
    assert "Only visits that began with" in page and "Countries: NO" in page
    assert "Visitors cannot be counted under a filter" in page
    entry = re.search(r'id="top-entry".*?</table>', response.content.decode(), re.S).group(0)
    assert "/contact/" not in entry and "/" in entry, "Ola (Sweden) is not among the filtered entry pages"
    assert ">Visitors<" not in re.search(r'id="top-referrer".*?</table>', response.content.decode(), re.S).group(0)
    assert 'aria-label="Remove the filter Countries: ' in response.content.decode()

    nb = text(client.get(f"/staff/analytics/?{RANGE}&filter=country:NO&filter=channel:search"))
    assert "Bare besøk som begynte med" in nb


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("filter=ip:192.0.2.0", "“ip:192.0.2.0” is not a filter."),
        ("filter=country", "“country” is not a filter."),
        ("filter=country:" + "N" * 3, "That value cannot be one of the countries."),
        ("filter=country:NO&filter=country:SE", "Countries are filtered twice; choose one value."),
    ],
)
def test_a_bad_filter_is_explained_and_every_visit_is_shown(client, personas, day_of_visits, query, message):
    staff_login(client, personas.sales)
    response = client.get(f"/en/staff/analytics/?{RANGE}&{query}")
    page = text(response)
    assert response.status_code == 400
    assert message in page and "Showing every visit instead." in page
    assert "Only visits that began with" not in page


def test_the_csv_export_of_a_filtered_breakdown_and_of_the_conversion_rates(client, personas, day_of_visits):
    staff_login(client, personas.privacy_officer)
    response = client.get(f"/en/staff/analytics/export.csv?{RANGE}&view=entry&filter=country:NO")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows == [["value", "visits", "pageviews", "bounces", "duration_ms"], ["/", "2", "3", "1", "0"]]
    response = client.get(f"/en/staff/analytics/export.csv?{RANGE}&view=rates")
    assert b"".join(response.streaming_content).decode().startswith("goal,dimension,value,conversions,visits,rate")
    assert client.get(f"/en/staff/analytics/export.csv?{RANGE}&view=entry&filter=ip:x").status_code == 400


def test_the_stats_api_filters_by_any_entry_value_and_refuses_a_bad_filter(client, personas, day_of_visits):
    from vern.analytics.tests.test_stats_api import bearer, make_token

    staff_login(client, personas.sales)
    token = make_token(client)
    api = type(client)()
    query = f"/api/analytics/stats?start={DAY}&end={DAY}"
    answer = api.get(
        f"{query}&filter=country:NO&filter=channel:search", **{"HTTP_" + k.upper(): v for k, v in bearer(token).items()}
    )
    assert answer.status_code == 200
    found = answer.json()
    assert found["filters"] == {"country": "NO", "channel": "search"}
    assert found["totals"]["visits"] == 1 and found["totals"]["visitors"] is None
    assert found["breakdowns"]["entry"] == [{"value": "/", "visitors": None, "visits": 1, "pageviews": 2}]
    whole = api.get(query, **{"HTTP_" + k.upper(): v for k, v in bearer(token).items()}).json()
    assert whole["totals"]["visits"] == 3 and whole["totals"]["visitors"] == 3 and whole["filters"] == {}
    refused = api.get(f"{query}&filter=ip:192.0.2.0", **{"HTTP_" + k.upper(): v for k, v in bearer(token).items()})
    assert refused.status_code == 400 and refused.json()["error"] == "filter"
    assert "is not a filter" in refused.json()["message"]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_clicking_a_row_filters_the_whole_dashboard_and_its_chip_removes_it_at_both_widths_in_both_languages(
    browser_page,
):
    import axe_playwright_python
    from django.utils import timezone

    from conftest import VIEWPORTS, screenshot
    from vern.accounts.services import staff_create
    from vern.accounts.testing import browser_second_factor
    from vern.audit.services import Actor

    axe = (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text()
    password = "correct horse battery staple 42"
    staff_create(
        email="sam@example.com", name="Sam Salg", roles=["sales"], language="en", password=password, actor=Actor.cli()
    )
    Goal.objects.create(name="Saw the demo page", kind=Goal.Kind.PAGE, match="/demo/*")
    chance = random.Random(4)
    days = [timezone.localdate() - dt.timedelta(days=n) for n in range(2, 6)]
    for day in days:
        for n in range(30):
            ref = chance.choice(["", "google.com", "facebook.com", "example.org"])
            values = {"referrer_host": ref, "country": chance.choice(["NO", "NO", "SE", "DK"])}
            values.update(
                browser=chance.choice(["Firefox", "Chrome"]), utm_campaign=chance.choice(["", "spring-launch"])
            )
            hit(at(9, n, day), f"{day}-{n}", chance.choice(["/", "/pricing/"]), **values)
            if n % 3 == 0:
                hit(at(9, n + 1, day), f"{day}-{n}", "/demo/", **values)
        BUFFER.flush()
        aggregate_day(day)
    page = browser_page
    page.goto(page.base + "/en/staff/login/")
    page.get_by_label("Email address").fill("sam@example.com")
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    browser_second_factor(page, "sam@example.com")
    page.wait_for_url(page.base + "/en/staff/")
    page.goto(page.base + "/en/staff/analytics/?range=7d")
    page.locator("#top-country ~ .table-wrap").get_by_role("link", name="NO").click()
    page.get_by_role("heading", name="Only visits that began with").wait_for()
    assert "filter=country" in page.url
    page.locator("#top-channel ~ .table-wrap").get_by_role("link", name="Search").click()
    page.get_by_role("link", name="Remove the filter Sources: Search").wait_for()
    filtered = page.url
    for language, prefix in (("en", "/en/"), ("nb", "/")):
        page.goto(filtered.replace("/en/", prefix))
        for width, size in VIEWPORTS.items():
            page.set_viewport_size(size)
            page.reload()
            assert page.evaluate("document.documentElement.scrollWidth") <= size["width"], width
            page.evaluate(axe)
            violations = page.evaluate("axe.run({include: [['main']]}).then(r => r.violations.map(v => v.id))")
            assert violations == [], (language, width, violations)
            screenshot(page, f"analytics-filtered-{language}-{width}")
    page.goto(filtered)
    page.get_by_role("link", name="Remove the filter Countries: NO").click()
    page.get_by_role("link", name="Remove the filter Sources: Search").wait_for()
    assert page.get_by_role("link", name="Remove the filter Countries: NO").count() == 0
    assert page.watch.console_errors == []


def test_the_dashboard_shows_the_last_24_hours_per_hour(client, personas):
    from django.utils import timezone

    from vern.lib.days import local_day

    when = timezone.now().replace(minute=10, second=0, microsecond=0) - dt.timedelta(hours=2)  # both in one hour
    hit(when, "kari", "/")
    hit(when + dt.timedelta(minutes=1), "kari", "/demo/")
    BUFFER.flush()
    aggregate_day(local_day(when))
    staff_login(client, personas.sales)
    html = client.get("/en/staff/analytics/?range=7d").content.decode()
    table = re.search(r'<table id="hours-table">.*?</table>', html, re.S).group(0)
    rows = re.findall(
        r'<tr><th scope="row">([^<]+)</th><td class="num">(\d+)</td><td class="num">(\d+)</td>'
        r'<td class="num">(\d+)</td></tr>',
        table,
    )
    assert len(rows) == 24
    label = timezone.localtime(when).strftime("%H:00")
    assert [r[1:] for r in rows if r[0].endswith(label)] == [("1", "1", "2")]
    assert sum(int(r[2]) for r in rows) == 1


def test_a_day_totalled_before_the_cube_existed_gets_its_cube_but_the_first_partly_swept_day_does_not():
    from vern.analytics.aggregate import days_to_aggregate

    first, second = DAY - dt.timedelta(days=1), DAY
    hit(at(12, day=first), "early")
    hit(at(12, day=second), "later")
    BUFFER.flush()
    aggregate_day(first)
    aggregate_day(second)
    EntryStat.objects.all().delete()  # as after the upgrade: daily totals, no cube
    now = at(12, day=DAY + dt.timedelta(days=5))

    due = days_to_aggregate(now)

    assert second in due  # its hits are all there: its cube is built
    assert first not in due  # the oldest day left may have lost hits to the sweep: its totals stay


def test_p12_the_cube_is_kept_no_longer_than_the_raw_hits_and_the_daily_totals_stay(published):
    from vern.analytics.services import analytics_aggregate

    old = DAY - dt.timedelta(days=45)
    hit(at(12, day=old - dt.timedelta(days=1)), "longer-ago")  # the first day kept, never redone
    hit(at(12, day=old), "long-ago")
    hit(at(13, day=old), "held")  # a rights request's hold keeps this one past the month
    hit(at(12), "recent")
    BUFFER.flush()
    for day in (old - dt.timedelta(days=1), old, DAY):
        aggregate_day(day)
    assert EntryStat.objects.filter(day=old).exists() and ReachStat.objects.filter(day=old).exists()
    Goal.objects.create(name="Any page", kind=Goal.Kind.PAGE, match="/*")
    goals.refresh_page_reach(DAY)
    assert PatternReach.objects.filter(day=old).exists()

    analytics_aggregate(now=at(12, day=DAY + dt.timedelta(days=1)))  # Kaukus keeps hits one month
    assert not PatternReach.objects.filter(day=old).exists() and PatternReach.objects.filter(day=DAY).exists()

    assert not EntryStat.objects.filter(day=old).exists() and not ReachStat.objects.filter(day=old).exists()
    assert EntryStat.objects.filter(day=DAY, dimension="total").exists() and ReachStat.objects.filter(day=DAY).exists()
    assert DailyStat.objects.get(day=old, dimension="total").visits == 2
    # Found in review: while some of a day's hits are left (the sweep is behind, or a hold keeps
    # some), the hourly job leaves that day as it is: it neither works it out every hour for its
    # deleted cube nor overwrites its totals with those of the few hits left.
    worked_out = TotalledDay.objects.get(day=old).totalled_at
    analytics_aggregate(now=at(13, day=DAY + dt.timedelta(days=1)))
    assert TotalledDay.objects.get(day=old).totalled_at == worked_out and not EntryStat.objects.filter(day=old)
    held = ("held", "longer-ago")  # the day before's hit is held too, so the old day is not the first kept
    Hit.objects.filter(at__lt=at(0, day=old + dt.timedelta(days=1))).exclude(visitor__in=held).delete()  # the sweep
    analytics_aggregate(now=at(14, day=DAY + dt.timedelta(days=1)))
    assert DailyStat.objects.get(day=old, dimension="total").visits == 2 and TotalledDay.objects.filter(day=old)
    for visitor in ("late-1", "late-2"):  # hits kept through an outage of weeks, written now
        hit(at(15, day=old), visitor)
    BUFFER.flush()
    analytics_aggregate(now=at(14, 30, day=DAY + dt.timedelta(days=1)))
    assert DailyStat.objects.get(day=old, dimension="total").visits == 2  # not the 3 visits of the hits left
    # Once its hits are all gone, so is that record; the recent day's stays.
    Hit.objects.filter(at__lt=at(0, day=old + dt.timedelta(days=1))).delete()
    analytics_aggregate(now=at(15, day=DAY + dt.timedelta(days=1)))
    assert TotalledDay.objects.filter(day=DAY) and not TotalledDay.objects.filter(day__lte=old)
