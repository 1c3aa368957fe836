"""The weekly email report: in each recipient's language, opt-in, once a week, with alerts; consent figures."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from vern.accounts.models import RoleGrant, User
from vern.accounts.testing import staff_login
from vern.analytics import reports
from vern.analytics.models import DailyStat, Goal, GoalCount, ReportRecipient
from vern.analytics.selectors import Period
from vern.audit.models import Entry
from vern.mail.services import outbox_deliver_due
from vern.registry import surface

pytestmark = pytest.mark.django_db
MONDAY = dt.datetime(2026, 5, 18, 7, 0, tzinfo=ZoneInfo("Europe/Oslo"))  # reports 11–17 May against 4–10 May


def staff(email: str, name: str, language: str, role: str = "sales") -> User:
    user = User.objects.create_user(email=email, password=None, name=name, language=language)
    RoleGrant.objects.create(user=user, role=role)
    return user


def week_of_visits(first: dt.date, visitors: int) -> None:
    for n in range(7):
        day = first + dt.timedelta(days=n)
        DailyStat.objects.create(day=day, dimension="total", visitors=visitors, visits=visitors, pageviews=2 * visitors)


def test_the_weekly_report_reaches_a_norwegian_staff_member_in_norwegian_with_an_alert(client, smtp_server):
    kari = staff("kari@example.com", "Kari Salg", "nb")
    ola = staff("ola@example.com", "Ola Sales", "en")
    staff("nils@example.com", "Nils Ikkje", "nb")  # never asked for it
    week_of_visits(dt.date(2026, 5, 4), 20)  # 140 visitors the week before
    week_of_visits(dt.date(2026, 5, 11), 50)  # 350 last week: +150 %, sharp
    DailyStat.objects.create(day=dt.date(2026, 5, 12), dimension="page", value="/priser/", pageviews=77, visits=70)
    Goal.objects.create(name="Demo bestilt", kind="server", match="demo_booked")
    GoalCount.objects.create(day=dt.date(2026, 5, 13), event="demo_booked", count=7)
    staff_login(client, kari)
    client.post("/staff/analytics/settings/", {"action": "report_on"})
    ReportRecipient.objects.create(user=ola)

    with time_machine.travel(MONDAY, tick=False):
        assert reports.send_weekly_reports() == 2
        assert reports.send_weekly_reports() == 0  # a rerun the same week sends nothing more
    outbox_deliver_due()

    mails = {m["To"]: m for m in smtp_server.messages}
    assert set(mails) == {"kari@example.com", "ola@example.com"}
    norwegian = mails["kari@example.com"]
    body = norwegian.get_body(("plain",)).get_content()
    assert str(norwegian["Subject"]).strip() == "Statistikk: et tall endret seg kraftig forrige uke"
    assert "Statistikk for 11. mai 2026 – 17. mai 2026" in body
    assert "Besøkende endret seg kraftig: 350 denne uken mot 140 uken før (+150 %)." in body
    assert "Besøkende: 350 (+150 %)" in body and "/priser/: 77" in body and "Demo bestilt: 7 (2,0 %)" in body
    assert "range=custom&start=2026-05-11&end=2026-05-17" in body
    english = mails["ola@example.com"].get_body(("plain",)).get_content()
    assert "Visitors moved sharply: 350 this week against 140 the week before (+150 %)." in english
    assert Entry.objects.filter(action="analytics.report_on", actor_id=kari.pk).exists()


def test_a_small_change_or_a_small_site_raises_no_alert_and_a_recipient_who_left_gets_nothing(smtp_server):
    dag = staff("dag@example.com", "Dag", "nb")
    ReportRecipient.objects.create(user=dag)
    dag.is_active = False
    dag.save()
    week_of_visits(dt.date(2026, 5, 4), 2)  # 14 → 35 visitors: +150 %, but a small site
    week_of_visits(dt.date(2026, 5, 11), 5)
    found = reports.board(Period(dt.date(2026, 5, 11), dt.date(2026, 5, 17)))
    assert reports.alerts(found) == []
    with time_machine.travel(MONDAY, tick=False):
        assert reports.send_weekly_reports() == 0


def test_a_sharp_move_in_the_consent_rate_is_an_alert(published):
    period = Period(dt.date(2026, 5, 11), dt.date(2026, 5, 17))
    found = reports.board(period)
    now = surface.ConsentStatistics(decisions=100, accepted_any=30)
    before = surface.ConsentStatistics(decisions=100, accepted_any=50)
    sharp = reports.Board(found.dashboard, [], [], now, before)
    [alert] = reports.alerts(sharp)
    assert (alert.kind, alert.change) == ("consent", -20.0)
    mild = reports.Board(found.dashboard, [], [], surface.ConsentStatistics(decisions=100, accepted_any=40), before)
    assert reports.alerts(mild) == []
