"""The geometry of the dashboard's chart, drawn as SVG on the server: no script, nothing from elsewhere.

Positions are percentages of the drawing, so the SVG fills any width while its
text keeps its size (a scaled viewBox would shrink the labels to nothing on a
phone). The visitors line lives in a nested SVG that does stretch, with strokes
that do not.

A period of one day is drawn by the hour (``selectors.Hour``), any longer one by the day
(``selectors.Day``); both have visitors, visits and page views.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

from vern.analytics.selectors import Day, Hour

LINE_UNITS = 1000  # the nested SVG's coordinate space for the line
GRID_STEPS = 4
MAX_TICKS = 5
MAX_DOTS = 62  # above this many days, dots would merge into the line
HOUR_TICKS = 3  # an hour chart labels every third hour on a wide screen
HOUR_MAJOR = 6  # and every sixth on a phone

Point = Day | Hour


@dataclass(frozen=True)
class Slot:
    """One day or hour: where its bar stands and the area that shows its numbers on hover."""

    point: Point
    x: float  # left edge of the day, percent
    width: float
    bar_x: float
    bar_width: float
    bar_y: float  # top of the page-view bar, percent from the top
    bar_height: float
    dot_x: float  # the visitors point, percent
    dot_y: float
    future: bool = False  # an hour of today still to come: a place on the axis, no figures


@dataclass(frozen=True)
class Tick:
    point: Point
    x: float  # percent
    anchor: str  # "start", "middle" or "end"
    minor: bool  # hidden on a phone, where only the first, middle and last fit


@dataclass(frozen=True)
class Grid:
    value: int
    y: float  # percent from the top


@dataclass(frozen=True)
class Chart:
    slots: list[Slot]
    grid: list[Grid]  # top first
    ticks: list[Tick]
    line: str  # polyline points in LINE_UNITS
    dots: bool
    peak: Point | None  # the day or hour with most page views
    hourly: bool = False

    @property
    def line_units(self) -> int:
        return LINE_UNITS


def nice_top(value: int, steps: int = GRID_STEPS) -> int:
    """The smallest round number ≥ value that divides into ``steps`` round, whole steps."""
    if value <= 0:
        return steps
    raw = value / steps
    magnitude = 10 ** math.floor(math.log10(raw))
    for multiple in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        step = multiple * magnitude
        if step >= raw and step == int(step):
            return int(step) * steps
    return math.ceil(raw) * steps  # pragma: no cover (10 × magnitude always fits)


def _tick_indexes(days: int) -> list[int]:
    if days <= 1:
        return [0]
    count = next((k for k in (MAX_TICKS, 4, 3) if (days - 1) % (k - 1) == 0), MAX_TICKS)
    count = min(count, days)
    return sorted({round(i * (days - 1) / (count - 1)) for i in range(count)})


def _hour_ticks(hours: Sequence[Point]) -> list[tuple[int, bool]]:
    """The slots an hour chart labels (every third local hour, its first showing), and which of
    them a phone leaves out (all but every sixth)."""
    chosen, seen = [], set()
    for index, hour in enumerate(hours):
        assert isinstance(hour, Hour)
        local = hour.local.hour
        if local % HOUR_TICKS == 0 and local not in seen:
            chosen.append((index, local % HOUR_MAJOR != 0))
        seen.add(local)
    return chosen


def build(days: Sequence[Point], *, now: dt.datetime | None = None) -> Chart:
    """The chart of a series of days, or of the hours of one day; the hours after ``now`` (today's
    still to come) keep their place on the axis but have no bar, point or line."""
    n = len(days)
    hourly = bool(days) and isinstance(days[0], Hour)
    top = nice_top(max((max(d.pageviews, d.visitors) for d in days), default=0))
    width = 100 / n if n else 100
    bar_width = width * (0.7 if n <= 62 else 0.85)

    def y(value: int) -> float:
        return 100 - 100 * value / top

    slots = []
    for index, day in enumerate(days):
        x = index * width
        slots.append(
            Slot(
                point=day,
                x=round(x, 4),
                width=round(width, 4),
                bar_x=round(x + (width - bar_width) / 2, 4),
                bar_width=round(bar_width, 4),
                bar_y=round(y(day.pageviews), 4),
                bar_height=round(100 - y(day.pageviews), 4),
                dot_x=round(x + width / 2, 4),
                dot_y=round(y(day.visitors), 4),
                future=now is not None and isinstance(day, Hour) and day.hour > now,
            )
        )
    line = " ".join(f"{s.dot_x * LINE_UNITS / 100:.1f},{s.dot_y * LINE_UNITS / 100:.1f}" for s in slots if not s.future)
    ticks = []
    if hourly:
        for index, minor in _hour_ticks(days):
            slot = slots[index]
            # The first label starts at the left edge, so that it does not stick out of the chart.
            x, anchor = (slot.x, "start") if index == 0 else (slot.dot_x, "middle")
            ticks.append(Tick(slot.point, round(x, 4), anchor, minor=minor))
    indexes = [] if hourly or not n else _tick_indexes(n)
    for position, index in enumerate(indexes):
        first, last = position == 0, position == len(indexes) - 1
        slot = slots[index]
        if first and not last:
            x, anchor = slot.x, "start"
        elif last and not first:
            x, anchor = slot.x + slot.width, "end"
        else:
            x, anchor = slot.dot_x, "middle"
        # A phone keeps the ends, and the middle tick only when there is a true middle.
        middle = len(indexes) % 2 == 1 and position == len(indexes) // 2
        ticks.append(Tick(slot.point, round(x, 4), anchor, minor=not (first or last or middle)))
    grid = [Grid(top * (GRID_STEPS - i) // GRID_STEPS, 100 * i / GRID_STEPS) for i in range(GRID_STEPS + 1)]
    peak: Point | None = max(days, key=lambda d: d.pageviews) if any(d.pageviews for d in days) else None
    return Chart(slots=slots, grid=grid, ticks=ticks, line=line, dots=n <= MAX_DOTS, peak=peak, hourly=hourly)
