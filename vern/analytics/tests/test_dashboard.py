"""The analytics dashboard: totals against the period before, the chart, top lists, what was not counted, CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from vern.accounts.testing import browser_second_factor, staff_login
from vern.analytics import selectors
from vern.analytics.forms import preset_period
from vern.analytics.models import DailyStat, Dropped
from vern.analytics.selectors import Period

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 5, 20)
NBSP = "\xa0"


@pytest.fixture(autouse=True)
def today(request):
    if request.node.get_closest_marker("browser"):  # the browser keeps real time, or its session would expire
        yield timezone.localdate()
        return
    with time_machine.travel(dt.datetime(2026, 5, 20, 12, 0, tzinfo=ZoneInfo("Europe/Oslo")), tick=False):
        yield TODAY


def stat(day: dt.date, dimension: str = "total", value: str = "", **counts: int) -> DailyStat:
    return DailyStat.objects.create(day=day, dimension=dimension, value=value, **counts)


def may(day: int) -> dt.date:
    return dt.date(2026, 5, day)


def text(response) -> str:
    """The page as a reader sees it: tags gone, spaces collapsed (non-breaking ones kept)."""
    html = response.content.decode()
    return re.sub(r"[ \t\r\n]+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture
def two_periods():
    """11–20 May against 1–10 May: more visitors, a higher bounce rate, longer visits."""
    for day in (may(12), may(19)):
        stat(day, visitors=700, visits=1000, pageviews=6000, bounces=500, duration_ms=1000 * 90_000)
    for day in (may(2), may(9)):
        stat(day, visitors=500, visits=800, pageviews=4000, bounces=320, duration_ms=800 * 60_000)
    stat(may(1) - dt.timedelta(days=1), visitors=999_999, visits=999_999, pageviews=999_999)  # before both periods


def test_totals_add_up_the_days_and_compare_with_the_period_before(two_periods):
    board = selectors.dashboard(Period(may(11), may(20)))
    assert board.previous_period == Period(may(1), may(10))
    # A visitor on both days counts twice: the daily visitor hashes cannot be joined.
    assert board.totals.visitors == 1400 and board.previous_totals.visitors == 1000
    metrics = {m.key: m for m in board.metrics}
    assert metrics["visitors"].change == pytest.approx(40)
    assert metrics["pageviews"].value == 12_000 and metrics["pageviews"].change == pytest.approx(50)
    assert metrics["views_per_visit"].value == pytest.approx(6) and metrics["views_per_visit"].change == pytest.approx(
        20
    )
    assert metrics["bounce_rate"].value == pytest.approx(50) and metrics["bounce_rate"].change == pytest.approx(10)
    assert metrics["bounce_rate"].trend == "worse"  # more bounces is not good news
    assert metrics["average_duration"].value == pytest.approx(90) and metrics["average_duration"].change == 50
    assert metrics["visitors"].trend == "better"


def test_staff_read_the_totals_in_english_and_in_bokmal(client, personas, two_periods):
    staff_login(client, personas.sales)
    page = text(client.get("/en/staff/analytics/?start=2026-05-11&end=2026-05-20"))
    assert "11 May 2026 – 20 May 2026" in page and "compared with 1 May 2026 – 10 May 2026" in page
    assert "Page views 12,000 ▲ +50% from 8,000" in page
    assert "Visitors 1,400 ▲ +40% from 1,000" in page
    assert "Bounce rate 50% ▲ +10 points from 40%" in page
    assert "Visit duration 1 min 30 s ▲ +50% from 1 min 0 s" in page
    assert "Pages per visit 6.0 ▲ +20% from 5.0" in page

    page = text(client.get("/staff/analytics/?start=2026-05-11&end=2026-05-20"))
    assert f"12{NBSP}000" in page and f"8{NBSP}000" in page  # Bokmål groups thousands with a space
    assert "6,0" in page  # and writes decimals with a comma


def test_the_previous_period_without_data_is_said_plainly(client, personas):
    stat(may(20), visitors=3, visits=4, pageviews=5, bounces=1, duration_ms=4000)
    staff_login(client, personas.privacy_officer)
    page = text(client.get("/en/staff/analytics/?range=7d"))
    assert "Visitors 3 nothing to compare with" in page


def test_the_chart_shows_every_day_with_missing_days_as_zero(client, personas):
    stat(may(18), visitors=10, visits=12, pageviews=40)
    stat(may(20), visitors=20, visits=25, pageviews=80)
    assert [(d.day.day, d.pageviews) for d in selectors.daily_series(Period(may(17), may(20)))] == [
        (17, 0),
        (18, 40),
        (19, 0),
        (20, 80),
    ]
    staff_login(client, personas.sales)
    response = client.get("/en/staff/analytics/?range=7d")
    html = response.content.decode()
    assert 'role="img"' in html and '<title id="chart-title">Visitors and page views per day</title>' in html
    assert "30 visitors and 120 page views in all" in html
    assert "The busiest day was 20 May 2026, with 80 page views by 20 visitors." in html
    table = html.split('<details class="chart__table">')[1].split("</details>")[0]
    assert table.count("<tr>") == 1 + 7  # a header and every day of the week, data or not
    assert "<script" not in html.split("<main")[1]  # drawn on the server
    assert 'style="' not in html  # the CSP allows no inline styles


def test_top_lists_sum_the_days_and_rank_pages_by_views_and_the_rest_by_visits(client, personas):
    stat(may(19), visitors=30, visits=30, pageviews=60)
    stat(may(19), "page", "/pricing/", visitors=5, visits=5, pageviews=40)
    stat(may(20), "page", "/pricing/", visitors=5, visits=5, pageviews=10)
    stat(may(20), "page", "/", visitors=20, visits=20, pageviews=30)  # more visitors, fewer views
    stat(may(20), "entry", "/", visits=20, visitors=20, bounces=10, duration_ms=20 * 30_000)
    stat(may(20), "entry", "/pricing/", visits=10, visitors=10, bounces=0, duration_ms=10 * 120_000)
    stat(may(20), "referrer", "", visits=12, visitors=12)
    stat(may(20), "referrer", "www.example.no", visits=18, visitors=17)
    stat(may(20), "device", "mobile", visits=21, visitors=20)
    stat(may(20), "device", "desktop", visits=9, visitors=9)
    for n in range(12):
        stat(may(20), "browser", f"Browser {n:02}", visits=12 - n, visitors=12 - n)

    board = selectors.dashboard(Period(may(14), may(20)))
    assert [(r.value, r.pageviews) for r in board.top["page"].rows] == [("/pricing/", 50), ("/", 30)]
    assert [r.value for r in board.top["entry"].rows] == ["/", "/pricing/"]
    assert [r.value for r in board.top["referrer"].rows] == ["www.example.no", ""]
    browsers = board.top["browser"]
    assert len(browsers.rows) == 10 and browsers.rows[0].value == "Browser 00" and browsers.more == 2
    assert board.top["device"].rows[0].share == pytest.approx(70)

    staff_login(client, personas.sales)
    page = text(client.get("/en/staff/analytics/?range=7d"))
    top_pages = page.split("Top pages")[1].split("Entry pages")[0]
    assert top_pages.index("/pricing/") < top_pages.index(" / ")
    assert "/ 20 50% 30 s" in page and "/pricing/ 10 0% 2 min 0 s" in page  # entry: visits, bounces, time
    assert "Direct or unknown 12 12" in page
    assert "Mobile 20 21 70%" in page and "Desktop 9 9 30%" in page
    assert "2 more are not shown; the CSV file has them all." in page


def test_a_period_without_visits_shows_the_empty_state(client, personas):
    stat(may(1), visitors=5, visits=5, pageviews=5)  # outside the period
    staff_login(client, personas.privacy_officer)
    page = text(client.get("/en/staff/analytics/?range=7d"))
    assert "No visits in this period" in page
    assert "No visits were counted from 14 May 2026 to 20 May 2026." in page
    assert "Top pages" not in page and "Bounce rate" not in page


def test_what_was_not_counted_is_shown_per_reason_and_per_bot(client, personas):
    stat(may(20), visitors=1, visits=1, pageviews=1)
    Dropped.objects.create(day=may(19), reason="bot", agent="Googlebot", count=1200)
    Dropped.objects.create(day=may(20), reason="bot", agent="Googlebot", count=300)
    Dropped.objects.create(day=may(20), reason="bot", agent="GPTBot", count=40)
    Dropped.objects.create(day=may(20), reason="rate", count=7)
    Dropped.objects.create(day=may(1), reason="invalid", count=99)  # outside the period
    staff_login(client, personas.sales)
    page = text(client.get("/en/staff/analytics/?range=7d"))
    assert "Bot or crawler 1,540" in page and "Too many from one network 7" in page
    assert "In all 1,547" in page and "Malformed" not in page
    assert page.index("Googlebot 1,500") < page.index("GPTBot 40")


def test_the_dashboard_is_a_fixed_number_of_queries_whatever_the_data(django_assert_num_queries):
    for n in range(30):
        day = may(20) - dt.timedelta(days=n)
        stat(day, visitors=n, visits=n, pageviews=n)
        for m in range(5):
            stat(day, "page", f"/p{m}/", visitors=1, visits=1, pageviews=m)
    with django_assert_num_queries(5 + len(selectors.TOP_DIMENSIONS)):  # totals, series, distinct, 2 dropped
        selectors.dashboard(Period(may(1), may(20)))


def test_the_presets_end_today_and_last_month_is_the_whole_month(client, personas):
    assert preset_period("7d", TODAY) == Period(may(14), may(20))
    assert preset_period("30d", TODAY) == Period(dt.date(2026, 4, 21), may(20))
    assert preset_period("month", TODAY) == Period(may(1), may(20))
    assert preset_period("last-month", TODAY) == Period(dt.date(2026, 4, 1), dt.date(2026, 4, 30))
    assert preset_period("last-month", dt.date(2026, 1, 5)) == Period(dt.date(2025, 12, 1), dt.date(2025, 12, 31))
    staff_login(client, personas.sales)
    page = client.get("/en/staff/analytics/?range=last-month").content.decode()
    assert 'href="?range=last-month" aria-current="page"' in page
    assert "1 April 2026 – 30 April 2026" in page and "compared with 2 March 2026 – 31 March 2026" in page
    default = client.get("/en/staff/analytics/").content.decode()
    assert 'href="?range=30d" aria-current="page"' in default


@pytest.mark.parametrize(
    "query,message",
    [
        ("start=2026-05-10&end=2026-05-01", "The first day is after the last day. Swap them and try again."),
        ("start=2024-01-01&end=2026-05-01", "A period can be at most 400 days long; this one has 852."),
        ("start=2026-13-01&end=2026-05-01", "From: Write the date as year-month-day, for example 2026-05-31."),
        ("start=2026-05-01", "Choose both the first and the last day."),
        ("start=2026-05-01&end=2026-06-01", "The period cannot end after today."),
        ("start=1999-12-01&end=2000-01-01", "Choose a first day in the year 2000 or later."),
        ("range=decade", "Choose one of the periods offered."),
    ],
)
def test_a_bad_period_is_explained_and_the_last_30_days_are_shown(client, personas, query, message):
    staff_login(client, personas.sales)
    response = client.get(f"/en/staff/analytics/?{query}")
    assert response.status_code == 200
    page = text(response)
    assert "That period cannot be shown." in page and message in page
    assert "Showing the last 30 days instead." in page
    assert "21 April 2026 – 20 May 2026" in page


def test_a_bad_period_is_explained_in_bokmal(client, personas):
    staff_login(client, personas.sales)
    page = text(client.get("/staff/analytics/?start=2026-05-10&end=2026-05-01"))
    assert "Den perioden kan ikke vises." in page
    assert "Første dag er etter siste dag. Bytt dem om og prøv igjen." in page
    assert "Viser de siste 30 dagene i stedet." in page
    assert "21. april 2026 – 20. mai 2026" in page


def test_the_csv_has_every_aggregate_of_the_period_with_formulas_defused(client, personas):
    stat(may(19), visitors=3, visits=4, pageviews=9, bounces=1, duration_ms=12_345)
    stat(may(19), "page", "/", visitors=3, visits=4, pageviews=6)
    stat(may(20), "referrer", '=HYPERLINK("http://evil.example")', visits=1, visitors=1)
    stat(may(20), "browser", "-2+3", visits=1, visitors=1)
    stat(may(20), "os", "@SUM(A1)", visits=1, visitors=1)
    stat(may(20), "entry", "+/x", visits=1, visitors=1)
    stat(may(1), visitors=100)  # outside the period
    staff_login(client, personas.privacy_officer)
    response = client.get("/en/staff/analytics/export.csv?range=custom&start=2026-05-14&end=2026-05-20")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="analytics-2026-05-14-to-2026-05-20.csv"'
    assert "no-store" in response["Cache-Control"]
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows == [
        ["day", "dimension", "value", "visitors", "visits", "pageviews", "bounces", "duration_ms"],
        ["2026-05-19", "page", "/", "3", "4", "6", "0", "0"],
        ["2026-05-19", "total", "", "3", "4", "9", "1", "12345"],
        ["2026-05-20", "browser", "'-2+3", "1", "1", "0", "0", "0"],
        ["2026-05-20", "entry", "'+/x", "1", "1", "0", "0", "0"],
        ["2026-05-20", "os", "'@SUM(A1)", "1", "1", "0", "0", "0"],
        ["2026-05-20", "referrer", '\'=HYPERLINK("http://evil.example")', "1", "1", "0", "0", "0"],
    ]


def test_the_export_refuses_a_bad_period_instead_of_exporting_another(client, personas):
    staff_login(client, personas.sales)
    response = client.get("/en/staff/analytics/export.csv?start=2026-05-10&end=2026-05-01")
    assert response.status_code == 400 and "The first day is after the last day" in response.content.decode()


def test_sales_and_the_privacy_officer_find_it_and_the_administrator_does_not(client, personas):
    stat(may(18), visitors=17, visits=20, pageviews=30)
    stat(dt.date(2026, 5, 13), visitors=1000, visits=1000, pageviews=1000)  # eight days ago: not on the tile
    for persona in (personas.sales, personas.privacy_officer):
        staff_login(client, persona)
        assert 'href="/en/staff/analytics/"' in client.get("/en/staff/").content.decode()
        assert selectors.console_tiles(persona)[0].count == 17
    staff_login(client, personas.admin)
    assert "/staff/analytics/" not in client.get("/en/staff/").content.decode()
    assert selectors.console_tiles(personas.admin) == []
    assert client.get("/en/staff/analytics/").status_code == 403


# ------------------------------------------------------------------ in a browser


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_dashboard_reads_well_at_both_widths_and_passes_axe(browser_page, today):
    import axe_playwright_python

    from conftest import VIEWPORTS, screenshot
    from vern.accounts.services import staff_create
    from vern.audit.services import Actor

    axe = (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text()
    password = "correct horse battery staple 42"
    staff_create(
        email="sam@example.com", name="Sam Salg", roles=["sales"], language="en", password=password, actor=Actor.cli()
    )
    for n in range(30):
        day = today - dt.timedelta(days=n)
        stat(day, visitors=40 + n, visits=50 + n, pageviews=120 + 3 * n, bounces=20, duration_ms=50 * 45_000)
        stat(day, "page", "/personvern/informasjonskapsler/en-svaert-lang-adresse-som-ikke-far-plass/", pageviews=9)
        stat(day, "browser", "Firefox", visits=30, visitors=25)
        stat(day, "channel", "search", visits=30, visitors=25)
        stat(day, "utm_campaign", "spring-launch-with-a-long-campaign-name-2026", visits=12, visitors=11)
        stat(day, "country", "NO", visits=40, visitors=35)
        stat(day, "goal", "demo-booked", visits=3, visitors=3, pageviews=4)
    page = browser_page
    page.goto(page.base + "/en/staff/login/")
    page.get_by_label("Email address").fill("sam@example.com")
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    browser_second_factor(page, "sam@example.com")
    page.wait_for_url(page.base + "/en/staff/")
    page.get_by_role("link", name="Analytics").first.click()
    page.get_by_role("link", name="Last 7 days").click()
    page.get_by_role("img", name="Visitors and page views per day").wait_for()
    for width, size in VIEWPORTS.items():
        page.set_viewport_size(size)
        page.reload()
        assert page.evaluate("document.documentElement.scrollWidth") <= size["width"], width  # nothing spills over
        page.evaluate(axe)
        violations = page.evaluate("axe.run({include: [['main']]}).then(r => r.violations.map(v => v.id))")
        assert violations == [], (width, violations)
        screenshot(page, f"analytics-{width}")

    # Today, hour by hour (item 7): from the hourly totals, up to the hour begun now.
    from vern.analytics.models import HourlyStat
    from vern.lib.days import day_start

    hour = day_start(today).astimezone(dt.UTC)
    for n in range(24):
        if hour + dt.timedelta(hours=n) <= timezone.now():
            busy = 12 - abs(n - 12)  # a day that swells towards noon
            HourlyStat.objects.create(
                hour=hour + dt.timedelta(hours=n), day=today, visitors=busy, visits=busy + 1, pageviews=3 * busy + 2
            )
    page.get_by_role("link", name="Today").click()
    page.get_by_role("img", name="Visitors and page views per hour").wait_for()
    assert "Today is not over" in page.inner_text("main")
    for width, size in {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}.items():
        page.set_viewport_size(size)
        page.reload()
        page.get_by_text("The numbers per hour, as a table").click()  # open the table of hours
        page.locator("#day-hours-table").wait_for()
        assert page.evaluate("document.documentElement.scrollWidth") <= size["width"], width
        page.evaluate(axe)
        violations = page.evaluate("axe.run({include: [['main']]}).then(r => r.violations.map(v => v.id))")
        assert violations == [], (width, violations)
        screenshot(page, f"analytics-today-{width}")

    # Under a filter the hours cannot be narrowed: the page says so and links to the day for all visits.
    from vern.analytics.models import EntryStat

    EntryStat.objects.create(day=today, dimension="total", country="NO", visits=5, pageviews=9, bounces=2)
    page.goto(page.base + "/en/staff/analytics/?range=today&filter=country:NO")
    for width, size in {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}.items():
        page.set_viewport_size(size)
        page.reload()
        assert "The hours of a day cannot be filtered" in page.inner_text("#no-hours")
        assert page.evaluate("document.documentElement.scrollWidth") <= size["width"], width
        page.evaluate(axe)
        violations = page.evaluate("axe.run({include: [['main']]}).then(r => r.violations.map(v => v.id))")
        assert violations == [], (width, violations)
        screenshot(page, f"analytics-today-filtered-{width}")
    page.get_by_role("link", name="See this day hour by hour, for all visits").click()
    page.get_by_role("img", name="Visitors and page views per hour").wait_for()
    assert page.watch.console_errors == []


def test_the_chart_scale_is_round_and_its_ticks_fit_a_phone():
    from vern.analytics.chart import build, nice_top

    assert [nice_top(v) for v in (0, 3, 7, 550 * 4 - 1, 2201, 9_000)] == [4, 4, 8, 2400, 2400, 10_000]
    week = build([selectors.Day(may(14) + dt.timedelta(days=n), n, n, 10 * n) for n in range(7)])
    assert [line.value for line in week.grid] == [60, 45, 30, 15, 0]
    assert [(t.point.day.day, t.anchor, t.minor) for t in week.ticks] == [
        (14, "start", False),
        (16, "middle", True),
        (18, "middle", True),
        (20, "end", False),
    ]
    month = build([selectors.Day(may(1) + dt.timedelta(days=n), 1, 1, 1) for n in range(29)])
    assert [t.minor for t in month.ticks] == [False, True, False, True, False]  # both ends and the true middle
    assert month.slots[-1].x + month.slots[-1].width == pytest.approx(100)


def test_the_first_visits_show_at_once_and_the_last_30_minutes_are_counted_live(client, personas, published):
    """No waiting for the hourly job: today's totals are worked out from the raw hits when the page
    is opened, at most once a minute; the count of the last 30 minutes always comes from the hits."""
    from vern.analytics.tests.doors import sender

    send = sender("django")
    send({"k": "v", "u": "/"}, ip="203.0.113.77")
    send({"k": "v", "u": "/contact/"}, ip="203.0.113.77")  # the same visitor's second page
    staff_login(client, personas.sales)
    page = text(client.get("/en/staff/analytics/?range=7d"))
    assert "1 visitor and 2 page views in the last 30 minutes" in page
    assert "Visitors 1 nothing to compare with" in page and "Page views 2" in page

    send({"k": "v", "u": "/"}, ip="198.51.100.9", **{"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0"})
    page = text(client.get("/en/staff/analytics/?range=7d"))
    assert "2 visitors and 3 page views in the last 30 minutes" in page
    assert "Visitors 1 " in page  # worked out less than a minute ago: not yet again
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=61), tick=False):
        page = text(client.get("/en/staff/analytics/?range=7d"))
        assert "Visitors 2 " in page and "Page views 3" in page
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=31), tick=False):
        page = text(client.get("/en/staff/analytics/?range=7d"))
        assert "0 visitors and 0 page views in the last 30 minutes" in page
        assert "Visitors 2 " in page  # today's totals stay
