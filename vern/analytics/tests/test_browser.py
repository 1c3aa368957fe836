"""A real visit in headless Chromium: three pages, with and without consent to statistics (P4, P21)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from conftest import VIEWPORTS
from vern.analytics.aggregate import aggregate_day
from vern.analytics.buffer import BUFFER
from vern.analytics.models import DailyStat, Hit
from vern.lib.days import local_day
from vern.testing import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
# Headless Chromium says so in its user agent, and Playwright sets navigator.webdriver:
# both mark a bot, which the beacon and the server rightly refuse. A person's browser:
CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36"


@pytest.fixture
def visitor(chromium, live_server):
    context = chromium.new_context(viewport=VIEWPORTS["desktop"], locale="nb-NO", user_agent=CHROME)
    context.add_init_script("Object.defineProperty(Navigator.prototype, 'webdriver', {get: () => false})")
    page = context.new_page()
    page.base = live_server.url
    yield page
    context.close()


def visit_three_pages(page) -> None:
    """Home, then Contact and Privacy by the menu, each looked at for a moment; then the tab is closed."""
    page.goto(page.base + "/")
    menu = page.get_by_role("navigation", name="Hovedmeny")
    page.wait_for_timeout(700)
    menu.get_by_role("link", name="Kontakt").click()
    page.wait_for_url("**/contact/")
    page.wait_for_timeout(700)
    menu.get_by_role("link", name="Personvern").click()
    page.wait_for_url("**/privacy/")
    page.wait_for_timeout(700)


def hits() -> list[Hit]:
    BUFFER.flush()
    return list(Hit.objects.order_by("at", "id"))


def test_p4_p21_a_visit_without_consent_is_counted_with_its_duration_and_sets_no_cookie(visitor, published):
    visit_three_pages(visitor)
    cookies = visitor.context.cookies()
    visitor.close(run_before_unload=True)  # closing the tab sends the last page's engaged time
    # Each page reports its engaged time at least once: when its link was followed, or when the tab
    # was closed (a browser may also deliver the few milliseconds between the click and the unload).
    pages = {"/", "/contact/", "/privacy/"}
    wait_for(lambda: {h.path for h in hits() if h.kind == Hit.Kind.ENGAGEMENT} == pages, what="engaged times")

    views = [h for h in hits() if h.kind == Hit.Kind.PAGEVIEW]
    assert [h.path for h in views] == ["/", "/contact/", "/privacy/"]
    assert {h.referrer_host for h in views} == {""}  # moving within the site is no referral
    assert {(h.browser, h.browser_version, h.os, h.device) for h in views} == {("Chrome", "156", "Linux", "desktop")}
    assert {h.ip for h in views} == {"127.0.0.0"}
    assert len({h.visitor for h in hits()}) == 1 and {h.consent_id for h in hits()} == {""}
    assert all(h.engaged_ms > 0 for h in hits() if h.kind == Hit.Kind.ENGAGEMENT)
    assert cookies == []  # no cookie at all without a choice

    aggregate_day(local_day(timezone.now()))
    total = DailyStat.objects.get(dimension="total", value="")
    assert (total.visits, total.pageviews, total.bounces) == (1, 3, 0)
    assert total.duration_ms >= 1500  # three pages of ~0.7 s each: a real duration, not 0 s


def test_p21_with_statistics_consent_a_visitor_cookie_is_set_and_the_hits_name_the_consent(visitor, published):
    visitor.goto(visitor.base + "/")
    visitor.get_by_role("button", name="Godta alle").click()
    visitor.wait_for_timeout(300)
    visit_three_pages(visitor)
    wait_for(lambda: len([h for h in hits() if h.kind == Hit.Kind.PAGEVIEW]) == 4, what="four page views")

    cookies = {c["name"]: c for c in visitor.context.cookies()}
    assert "vern_visitor" in cookies and cookies["vern_visitor"]["httpOnly"]
    consent_id = cookies["vern_consent"]["value"].split(".")[1]
    after = [h for h in hits() if h.kind == Hit.Kind.PAGEVIEW][1:]
    assert {h.consent_id for h in after} == {consent_id}
    assert len({h.visitor for h in after}) == 1

    # Withdrawing statistics removes the cookie, and the next page is counted without it.
    visitor.goto(visitor.base + "/privacy/cookies/")
    visitor.get_by_role("button", name="Avvis alle").first.click()
    visitor.wait_for_timeout(300)
    assert "vern_visitor" not in {c["name"] for c in visitor.context.cookies()}


def test_a_utm_tagged_visit_shows_under_its_campaign_and_a_data_vern_goal_click_is_a_goal_without_cookies(
    visitor, published, default_source, client, personas
):
    from vern.accounts.testing import staff_login
    from vern.analytics import capture
    from vern.audit.services import Actor
    from vern.declaration.services import declaration_publish

    campaigns = "query_parameters: [utm_source, utm_medium, utm_campaign]"
    declaration_publish(source=default_source.replace("query_parameters: []", campaigns), actor=Actor.cli(), note="")
    capture.forget_settings()
    visitor.goto(visitor.base + "/?utm_source=newsletter&utm_medium=email&utm_campaign=spring-launch")
    # Any element the site marks with data-vern-goal: here one added to the page for the test.
    visitor.evaluate(
        "() => { const b = document.createElement('button'); b.dataset.vernGoal = 'demo-booked';"
        " b.textContent = 'Book'; document.body.append(b); }"
    )
    visitor.locator("[data-vern-goal]").dispatch_event("click")
    wait_for(lambda: [h.kind for h in hits()][:2] == [Hit.Kind.PAGEVIEW, Hit.Kind.GOAL], what="a view, then a goal")

    view, goal = hits()[:2]
    assert (view.utm_source, view.utm_medium, view.utm_campaign, view.channel) == (
        "newsletter",
        "email",
        "spring-launch",
        "direct",
    )
    assert (goal.goal, goal.path) == ("demo-booked", view.path)
    assert visitor.context.cookies() == []  # no cookie for a campaign or a goal

    aggregate_day(local_day(timezone.now()))
    staff_login(client, personas.privacy_officer)
    page = client.get("/en/staff/analytics/?range=7d").content.decode()
    campaigns_table = page[page.index('id="top-utm_campaign"') :]
    assert "spring-launch" in campaigns_table[: campaigns_table.index("</section>")]
    goals_table = page[page.index('id="top-goal"') :]
    assert "demo-booked" in goals_table[: goals_table.index("</section>")]


def test_a_click_on_a_data_vern_goal_link_without_consent_or_cookie_is_a_goal_staff_see_with_its_rate(
    visitor, published, client, personas
):
    from conftest import screenshot
    from vern.accounts.testing import staff_login
    from vern.analytics.reading_models import Goal

    visitor.goto(visitor.base + "/")
    # The site's own page, with a link marked as the site's author would: <a data-vern-goal="...">.
    visitor.evaluate(
        "() => { const a = document.createElement('a'); a.href = '#book'; a.dataset.vernGoal = 'demo-booked';"
        " a.textContent = 'Book a demo'; document.querySelector('main').prepend(a); }"
    )
    assert visitor.context.cookies() == []  # no choice made: no consent, no cookie
    visitor.get_by_role("link", name="Book a demo").click()
    wait_for(lambda: Hit.Kind.GOAL in [h.kind for h in hits()], what="the goal's hit")
    assert visitor.context.cookies() == []
    assert [h.consent_id for h in hits()] == ["", ""]
    aggregate_day(local_day(timezone.now()))

    staff_login(client, personas.sales)
    settings = "/en/staff/analytics/settings/"
    refused = client.post(settings, {"action": "goal_add", "name": "Demo", "kind": "event", "click": "demo booked"})
    assert refused.status_code == 400 and "digits or _ . : - without spaces" in refused.content.decode()
    client.post(settings, {"action": "goal_add", "name": "Demo clicks", "kind": "event", "click": "demo-booked"})
    assert Goal.objects.get().match == "demo-booked"

    # The staff member's session, in the browser: the dashboard's goals, at desktop and phone widths.
    visitor.context.add_cookies(
        [{"name": "vern_session", "value": client.cookies["vern_session"].value, "url": visitor.base}]
    )
    for width, viewport in VIEWPORTS.items():
        visitor.set_viewport_size(viewport)
        for path in ("/en/staff/analytics/?range=7d", settings):
            visitor.goto(visitor.base + path)
            assert visitor.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
            screenshot(visitor, f"click-goal-{'dashboard' if '?' in path else 'settings'}-{width}")
    visitor.goto(visitor.base + "/en/staff/analytics/?range=7d")
    row = visitor.locator("#goals-table tbody tr")
    assert row.locator("td").all_inner_texts() == ["Demo clicks", "1", "100%", "0"]  # one visit, and it clicked
