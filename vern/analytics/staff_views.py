"""The analytics dashboard for sales and the privacy officer, and its CSV export.

Everything shown here is anonymous daily totals (``DailyStat``, ``Dropped``):
no person can be picked out, so looking is not written to the audit log.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from vern.accounts.access import staff_view
from vern.accounts.roles import Capability
from vern.analytics import chart, selectors
from vern.analytics.forms import PRESETS, RangeForm, chosen_period
from vern.analytics.salts import local_day
from vern.analytics.selectors import Period
from vern.analytics.services import analytics_refresh_today
from vern.lib import csvsafe


def _page(
    request: HttpRequest, form: RangeForm, period: Period, preset: str, refused: bool, status: int = 200
) -> HttpResponse:
    if period.end >= local_day(timezone.now()):
        analytics_refresh_today()  # today's visits from the first one on, not after the hourly job
    board = selectors.dashboard(period)
    context = {
        "board": board,
        "right_now": selectors.right_now(),
        "chart": chart.build(board.days),
        "form": form,
        "preset": preset if not refused else "",
        "presets": list(PRESETS.items()),
        "refused": refused,
        # Translators: how a day is written under the chart, in Django's date format ("12. mai" in Bokmål).
        "axis_format": _("M j"),
    }
    return render(request, "analytics/staff_dashboard.html", context, status=status)


@staff_view(Capability.READ_ANALYTICS)
@require_http_methods(["GET", "HEAD"])
def dashboard(request: HttpRequest) -> HttpResponse:
    form, period, preset, refused = chosen_period(request.GET)
    return _page(request, form, period, preset, refused)


class _Echo:
    """A file-like object for csv.writer that hands each line back instead of keeping it."""

    def write(self, value: str) -> str:
        return value


def _lines(period: Period) -> Iterator[str]:
    writer = csvsafe.writer(_Echo())
    yield writer.writerow(selectors.EXPORT_COLUMNS)
    for row in selectors.export_rows(period):
        yield writer.writerow(row)


@staff_view(Capability.READ_ANALYTICS, reauth=True)
@require_http_methods(["GET", "HEAD"])
def export(request: HttpRequest) -> HttpResponseBase:
    form, period, preset, refused = chosen_period(request.GET)
    if refused:
        # A hand-made link with a bad range: say why on the page rather than export something else.
        return _page(request, form, period, preset, refused, status=400)
    response = StreamingHttpResponse(_lines(period), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="analytics-{period.start}-to-{period.end}.csv"'
    return response
