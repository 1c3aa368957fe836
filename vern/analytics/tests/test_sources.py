"""Where visits come from: countries without storing an IP, declared campaigns, referrers as
channels, and goals from data-vern-goal; then their daily totals and breakdowns (issue 20)."""

from __future__ import annotations

import datetime as dt
import gzip
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from vern.analytics import capture, selectors
from vern.analytics.aggregate import aggregate_day
from vern.analytics.buffer import BUFFER, HIT_COLUMNS, spooled_hit, store_spooled
from vern.analytics.models import DailyStat, Hit
from vern.analytics.sources import channel_of, country_of
from vern.audit.services import Actor
from vern.declaration.services import declaration_publish

pytestmark = pytest.mark.django_db
OSLO = ZoneInfo("Europe/Oslo")
DAY = dt.date(2030, 3, 14)
CAMPAIGNS = "query_parameters: [utm_source, utm_medium, utm_campaign]"
BEACON = Path(__file__).resolve().parents[1] / "static" / "vern" / "beacon.js"


def stored() -> list[Hit]:
    BUFFER.flush()
    return list(Hit.objects.order_by("id"))


@pytest.fixture
def behind_proxy(settings):
    """vern behind its reverse proxy, which names the visitor's address in X-Forwarded-For."""
    settings.VERN_TRUST_PROXY_HEADERS = True


@pytest.fixture
def campaigns_declared(published, default_source):
    assert "query_parameters: []" in default_source
    declaration_publish(
        source=default_source.replace("query_parameters: []", CAMPAIGNS), actor=Actor.cli(), note="campaigns"
    )
    capture.forget_settings()
    yield
    capture.forget_settings()


def test_country_lookup_of_real_addresses_and_none_for_private_ones():
    assert country_of("8.8.8.8") == "US"
    assert country_of("84.208.20.110") == "NO"
    assert country_of("2001:700:100::1") == "NO"
    assert [country_of(a) for a in ("127.0.0.1", "10.1.2.3", "::1", "203.0.113.77", "", "junk")] == [""] * 6


@pytest.mark.parametrize(
    ("address", "shortened"), [("84.208.20.110", "84.208.20.0"), ("2001:700:100:7::1234", "2001:700:100::")]
)
def test_p4_the_country_is_kept_and_no_column_holds_more_of_the_address_than_its_network(
    send, behind_proxy, address, shortened
):
    status, _ = send({"k": "v", "u": "/"}, ip="127.0.0.1", **{"X-Forwarded-For": address})

    assert status == 204
    [hit] = stored()
    assert (hit.country, hit.ip) == ("NO", shortened)
    values = {f.attname: str(getattr(hit, f.attname)) for f in Hit._meta.concrete_fields}
    assert not [name for name, value in values.items() if address in value]
    network = shortened.rstrip("0").rstrip(".:")  # 84.208.20, 2001:700:100
    assert [name for name, value in values.items() if network in value] == ["ip"]


def test_declared_campaign_parameters_are_kept_with_the_referrer_as_a_channel(send, campaigns_declared):
    page = "/demo/?utm_source=Newsletter&utm_medium=email&utm_campaign=spring&utm_term=kari"
    send({"k": "v", "u": page, "r": "https://www.linkedin.com/feed/"})
    send({"k": "v", "u": "/", "r": "https://www.google.no/search?q=kaukus"})
    send({"k": "v", "u": "/contact/"})

    campaign, search, direct = stored()
    assert (campaign.utm_source, campaign.utm_medium, campaign.utm_campaign) == ("newsletter", "email", "spring")
    assert "utm_term" not in campaign.path  # not declared: not kept anywhere
    assert [h.channel for h in (campaign, search, direct)] == ["social", "search", "direct"]
    assert (search.utm_source, direct.utm_campaign) == ("", "")


def test_without_declared_campaign_parameters_none_is_kept(send):
    send({"k": "v", "u": "/?utm_source=news&utm_campaign=spring"})
    [hit] = stored()
    assert (hit.path, hit.utm_source, hit.utm_campaign) == ("/", "", "")


def test_referrers_are_grouped_into_channels():
    assert [channel_of(h) for h in ("google.com", "google.co.uk", "duckduckgo.com", "search.brave.com")] == [
        "search"
    ] * 4
    assert [channel_of(h) for h in ("linkedin.com", "t.co", "m.facebook.com", "news.ycombinator.com")] == ["social"] * 4
    assert [channel_of(h) for h in ("", "example.org", "news.example.org", "x.example.com")] == [
        "direct",
        "other",
        "other",
        "other",
    ]


def test_a_goal_from_data_vern_goal_is_stored_as_a_goal_hit_and_malformed_ones_are_refused(send):
    assert send({"k": "g", "u": "/demo/", "g": "demo-booked"})[0] == 204
    assert send({"k": "g", "u": "/demo/"})[0] == 400  # a goal without its name
    assert send({"k": "v", "u": "/", "g": "demo-booked"})[0] == 400  # a name on a page view
    assert send({"k": "g", "u": "/", "g": "two words"})[0] == 400
    assert send({"k": "g", "u": "/", "g": "x" * 61})[0] == 400

    [hit] = stored()
    assert (hit.kind, hit.goal, hit.path) == (Hit.Kind.GOAL, "demo-booked", "/demo/")


def test_the_beacon_with_goals_stays_inside_its_1_kb_budget():
    script = BEACON.read_bytes()
    assert b"data-vern-goal" in script
    assert len(gzip.compress(script, 9)) <= 1024


def at(hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(DAY.year, DAY.month, DAY.day, hour, minute, tzinfo=OSLO)


def hit(when, visitor, path="/", kind=Hit.Kind.PAGEVIEW, *, referrer="", campaign="", country="", goal=""):
    values = {"at": when, "kind": kind, "source": 1, "visitor": visitor, "path": path, "referrer_host": referrer}
    values.update(ip="192.0.2.0", utm_campaign=campaign, country=country, goal=goal, browser="Firefox")
    values["channel"] = channel_of(referrer)
    BUFFER.add_hit(tuple(values.get(column, 0 if column == "engaged_ms" else "") for column in HIT_COLUMNS))


def day_rows() -> set[tuple[str, str, int, int, int]]:
    return set(DailyStat.objects.filter(day=DAY).values_list("dimension", "value", "visits", "pageviews", "visitors"))


def test_campaigns_channels_countries_and_goals_are_totalled_per_visit_and_rerunning_changes_nothing():
    # Kari comes from a search with the spring campaign, in Norway, and books a demo (the button twice).
    hit(at(10), "kari", "/", referrer="google.com", campaign="spring", country="NO")
    hit(at(10, 1), "kari", "/demo/", country="NO")
    hit(at(10, 2), "kari", "/demo/", Hit.Kind.GOAL, country="NO", goal="demo-booked")
    hit(at(10, 2), "kari", "/demo/", Hit.Kind.GOAL, country="NO", goal="demo-booked")
    # Ola types the address; his country is unknown.
    hit(at(11), "ola", "/contact/")
    BUFFER.flush()

    assert aggregate_day(DAY) == 2
    first = day_rows()
    assert ("total", "", 2, 3, 2) in first  # a goal is not a page view
    assert {("channel", "search", 1, 2, 1), ("channel", "direct", 1, 1, 1)} <= first
    assert {("utm_campaign", "spring", 1, 2, 1), ("country", "NO", 1, 2, 1), ("country", "", 1, 1, 1)} <= first
    assert ("goal", "demo-booked", 1, 2, 1) in first  # one visit, fired twice

    aggregate_day(DAY)
    assert day_rows() == first

    # A hit that arrives late for a day already totalled is counted once, at the next run.
    hit(at(9), "per", "/privacy/", referrer="example.org")
    BUFFER.flush()
    aggregate_day(DAY)
    aggregate_day(DAY)
    assert ("total", "", 3, 4, 3) in day_rows() and ("channel", "other", 1, 1, 1) in day_rows()


def test_breakdowns_by_any_dimension_and_filtered_by_the_entry_hit():
    hit(at(10), "kari", "/", referrer="google.com", campaign="spring", country="NO")
    hit(at(10, 1), "kari", "/demo/", country="NO")
    hit(at(11), "ola", "/contact/", country="SE")
    BUFFER.flush()
    aggregate_day(DAY)

    assert "utm_campaign" in selectors.BREAKDOWNS and "total" not in selectors.BREAKDOWNS
    campaigns = selectors.breakdown("utm_campaign", DAY, DAY)
    assert [(r.value, r.visits) for r in campaigns] == [("", 1), ("spring", 1)]
    norway = selectors.breakdown("page", DAY, DAY, {"country": "NO"})
    assert sorted((r.value, r.pageviews) for r in norway) == [("/", 1), ("/demo/", 1)]
    assert selectors.breakdown("country", DAY, DAY, {"channel": "search", "utm_campaign": "spring"})[0].value == "NO"
    with pytest.raises(ValueError):
        selectors.breakdown("ip", DAY, DAY)
    with pytest.raises(ValueError):
        selectors.breakdown("page", DAY, DAY, {"goal": "demo-booked"})


def test_a_hit_spooled_before_the_new_columns_existed_is_stored_with_them_empty(published):
    now = dt.datetime.now(dt.UTC)
    old = spooled_hit(
        (now, 1, 1, "v" * 32, "", "", "/", "", "", "Firefox", "133", "Linux", "", "desktop", "192.0.2.0", 0)
    )
    assert len(old["hit"]) == 15
    store_spooled([old])
    stored_hit = Hit.objects.get()
    assert (stored_hit.path, stored_hit.country, stored_hit.goal) == ("/", "", "")


def test_the_database_works_out_the_same_totals_as_the_python_reference_across_two_midnights():
    import random

    from vern.analytics.aggregate import aggregate_day_in_python

    chance = random.Random(20)
    kinds = [Hit.Kind.PAGEVIEW] * 6 + [Hit.Kind.ENGAGEMENT] * 3 + [Hit.Kind.GOAL]
    start = at(0) - dt.timedelta(hours=1)
    for n in range(40):  # 40 visitors, each with hits spread over 27 hours, some across midnight
        when = start + dt.timedelta(minutes=chance.randrange(27 * 60))
        who, previous = f"v{n}", ""
        for _ in range(chance.randrange(1, 12)):
            when += dt.timedelta(minutes=chance.choice([1, 5, 20, 29, 31, 45, 90]))
            kind = chance.choice(kinds)
            path = chance.choice(["/", "/demo/", "/contact/"])
            ref = chance.choice(["", "google.com", "example.org"])
            local = when.astimezone(OSLO)
            if local.hour == 0 and local.minute < 30 and not previous:  # the new day's hash, naming the old one
                who, previous = f"{who}-next", who
            values = {"at": when, "kind": kind, "source": 1, "visitor": who, "visitor_prev": previous}
            # One hit in four was stored before the channel existed: with a referrer, it counts as "other".
            channel = channel_of(ref) if chance.random() < 0.75 else ""
            values.update(path=path, referrer_host=ref, channel=channel, ip="192.0.2.0")
            values.update(engaged_ms=chance.randrange(1, 600_000) if kind == Hit.Kind.ENGAGEMENT else 0)
            values.update(goal="signup" if kind == Hit.Kind.GOAL else "", country=chance.choice(["", "NO", "SE"]))
            BUFFER.add_hit(tuple(values.get(column, "") for column in HIT_COLUMNS))
    BUFFER.flush()

    def rows(day: dt.date) -> list[tuple[object, ...]]:
        return sorted(DailyStat.objects.filter(day=day).values_list(*[f.name for f in DailyStat._meta.fields][1:]))

    for day in (DAY - dt.timedelta(days=1), DAY, DAY + dt.timedelta(days=1)):
        aggregate_day_in_python(day)
        expected = rows(day)
        aggregate_day(day)
        assert rows(day) == expected
    assert DailyStat.objects.get(day=DAY, dimension="total").visits > 30
