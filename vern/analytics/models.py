"""Raw hits (pseudonymised, kept a month), daily totals (anonymous, kept), and the technical log.

A ``Hit`` is one page view or one report of engaged time, as the beacon (or the
image for visitors without JavaScript) sent it: the path without its query
string, the referrer cut to host and path, browser and system families with
their major version, a device class, the IP address shortened before anything
is written, and a keyed visitor hash that changes every day. That is still
personal data (LAW.md R26): it is registered, found by IP address and time or
by consent id, erased on request and deleted after one month (P12).

A ``DailyStat`` holds totals for a day and one value of one dimension (a page,
a referrer, a browser …) without any IP address or visitor hash: anonymous
statistics, kept after the raw rows are gone. ``Dropped`` counts what was not
stored (bots, floods, bad payloads) per day, so that staff can see it.

On PostgreSQL the two append-heavy tables (``Hit`` and ``LogEvent``) are
partitioned by day, so that retention drops whole days (``vern.lib.partitions``).
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

PURPOSE = "analytics"
OPERATIONS = "operations"
# Why the shortened IP has no index of its own (registry: Privacy.unindexed).
IP_UNINDEXED = (
    "A shortened IP names a network of up to 256 addresses, not a person, and no rights request carries one. "
    "An index sorted by address would be rewritten at random pages by every nightly expiry, which on SQLite "
    "made expiring a month of rows about twelve times slower (docs/retention.md). A search by IP reads at most "
    "the month kept, and with a time window it walks the time index."
)


class Salt(models.Model):
    """The random key of one day's visitor hash; deleted after 48 hours, so old hashes can't be redone."""

    day = models.DateField(primary_key=True)
    key = models.BinaryField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("daily visitor key")
        verbose_name_plural = _("daily visitor keys")

    class Privacy:
        not_personal = "A random key per day; nothing about a visitor."

    def __str__(self) -> str:
        return str(self.day)


class Hit(models.Model):
    class Kind(models.IntegerChoices):
        PAGEVIEW = 1, _("page view")
        ENGAGEMENT = 2, _("engaged time")
        GOAL = 3, _("goal reached")

    class Source(models.IntegerChoices):
        SCRIPT = 1, _("beacon script")
        NO_SCRIPT = 2, _("image, without JavaScript")

    id = models.BigAutoField(primary_key=True)
    at = models.DateTimeField()
    kind = models.SmallIntegerField(choices=Kind.choices)
    source = models.SmallIntegerField(choices=Source.choices, default=Source.SCRIPT)
    # A keyed hash of the day's salt, the site, the shortened IP and the browser; with
    # consent to statistics, of the visitor cookie instead (then it lasts across days).
    visitor = models.CharField(max_length=32)
    # In the first 30 minutes after midnight, the hash under the previous day's salt too, so
    # that a visit going on at midnight is not split in two (the aggregation joins them).
    visitor_prev = models.CharField(max_length=32, blank=True)
    # Set when the visitor had consented to statistics: the basis is then (a), else (f).
    consent_id = models.CharField(max_length=32, blank=True)
    path = models.CharField(max_length=512)
    referrer_host = models.CharField(max_length=253, blank=True)
    referrer_path = models.CharField(max_length=512, blank=True)
    browser = models.CharField(max_length=40, blank=True)
    browser_version = models.CharField(max_length=8, blank=True)
    os = models.CharField(max_length=40, blank=True)
    os_version = models.CharField(max_length=8, blank=True)
    device = models.CharField(max_length=8, blank=True)
    ip = models.CharField(max_length=45)  # shortened: IPv4 /24, IPv6 /48
    engaged_ms = models.PositiveIntegerField(default=0)
    # Looked up from the full address in memory before it was shortened; only the code is kept.
    country = models.CharField(max_length=2, blank=True)
    # The referrer grouped (sources.CHANNELS): search, social, direct or other.
    channel = models.CharField(max_length=8, blank=True)
    # The declared campaign parameters of the page's address (analytics.query_parameters).
    utm_source = models.CharField(max_length=100, blank=True)
    utm_medium = models.CharField(max_length=100, blank=True)
    utm_campaign = models.CharField(max_length=100, blank=True)
    # A custom event (kind GOAL): the name in the clicked element's data-vern-goal attribute.
    goal = models.CharField(max_length=60, blank=True)

    class Meta:
        verbose_name = _("page view")
        verbose_name_plural = _("page views")
        indexes = [
            models.Index(fields=["at"], name="hit_at"),
            models.Index(fields=["consent_id"], name="hit_consent"),
        ]

    class Privacy:
        purpose = PURPOSE
        retention = "visitor_statistics"
        identifiers = {"ip": "ip", "consent_id": "consent_id"}
        unindexed = {"ip": IP_UNINDEXED}
        clock = "at"
        erasure = "delete"
        bases = ("a", "f")
        export = (
            "at",
            "kind",
            "path",
            "referrer_host",
            "referrer_path",
            "browser",
            "browser_version",
            "os",
            "os_version",
            "device",
            "ip",
            "engaged_ms",
            "country",
            "channel",
            "utm_source",
            "utm_medium",
            "utm_campaign",
            "goal",
        )

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.path}"


class DailyStat(models.Model):
    """One day's totals for one value of one dimension; ``total`` has the value ``""``."""

    class Dimension(models.TextChoices):
        TOTAL = "total", _("All pages")
        PAGE = "page", _("Pages")
        ENTRY = "entry", _("Entry pages")
        REFERRER = "referrer", _("Referrers")
        BROWSER = "browser", _("Browsers")
        OS = "os", _("Operating systems")
        DEVICE = "device", _("Devices")
        CHANNEL = "channel", _("Sources")
        UTM_SOURCE = "utm_source", _("Campaign sources")
        UTM_MEDIUM = "utm_medium", _("Campaign media")
        UTM_CAMPAIGN = "utm_campaign", _("Campaigns")
        COUNTRY = "country", _("Countries")
        GOAL = "goal", _("Goals")

    day = models.DateField()
    dimension = models.CharField(max_length=12, choices=Dimension.choices)
    value = models.CharField(max_length=600, blank=True)
    visitors = models.PositiveIntegerField(default=0)
    visits = models.PositiveIntegerField(default=0)
    pageviews = models.PositiveIntegerField(default=0)
    bounces = models.PositiveIntegerField(default=0)
    duration_ms = models.PositiveBigIntegerField(default=0)  # the engaged time of the visits, summed

    class Meta:
        verbose_name = _("daily total")
        verbose_name_plural = _("daily totals")
        constraints = [models.UniqueConstraint(fields=["dimension", "day", "value"], name="dailystat_unique")]

    class Privacy:
        not_personal = "Daily totals without IP address or visitor hash: anonymous statistics (P12, P21)."

    def __str__(self) -> str:
        return f"{self.day} {self.dimension} {self.value}"


class EntryStat(models.Model):
    """The cube: one day's visits per combination of their entry values (ADR 0023).

    ``dimension`` is ``total`` (the visits themselves, ``value`` empty), ``page`` (the pages
    those visits saw: ``visits`` that saw it, its ``pageviews``, the bounces among those
    visits, the engaged time on it) or ``goal`` (the visits that reached it, how often it
    fired as ``pageviews``, their bounces and engaged time). Any breakdown filtered by any
    entry value is a GROUP BY over these rows. No visitor count: distinct visitors cannot be
    added up across combinations.
    """

    day = models.DateField()
    entry = models.CharField(max_length=512, blank=True)
    referrer_host = models.CharField(max_length=253, blank=True)
    browser = models.CharField(max_length=40, blank=True)
    os = models.CharField(max_length=40, blank=True)
    device = models.CharField(max_length=8, blank=True)
    channel = models.CharField(max_length=8, blank=True)
    utm_source = models.CharField(max_length=100, blank=True)
    utm_medium = models.CharField(max_length=100, blank=True)
    utm_campaign = models.CharField(max_length=100, blank=True)
    country = models.CharField(max_length=2, blank=True)
    dimension = models.CharField(max_length=12)
    value = models.CharField(max_length=600, blank=True)
    visits = models.PositiveIntegerField(default=0)
    pageviews = models.PositiveIntegerField(default=0)
    bounces = models.PositiveIntegerField(default=0)
    duration_ms = models.PositiveBigIntegerField(default=0)

    class Meta:
        verbose_name = _("daily total per entry")
        verbose_name_plural = _("daily totals per entry")
        indexes = [models.Index(fields=["dimension", "day"], name="entrystat_dimension_day")]

    class Privacy:
        not_personal = (
            "Daily visit counts per combination of entry values; no address or hash (P12, P21); deleted "
            "with the raw hits it was counted from (aggregate.forget_old_cube), since a row may be one visit."
        )

    def __str__(self) -> str:
        return f"{self.day} {self.dimension} {self.value}"


class ReachStat(models.Model):
    """One day's visits that saw a page or reached a goal, per source, campaign source or campaign.

    What an unfiltered conversion rate per source reads (``goals.conversion_rates``): the cube's
    ``page`` and ``goal`` rows added up over one of ``split``'s columns, a few rows per page and source
    a day where the cube has about one per visit. Written with the cube from its rows, and deleted
    with it (``aggregate.forget_old_cube``), so both cover the same days (ADR 0028).
    """

    class Split(models.TextChoices):
        CHANNEL = "channel", _("Sources")
        UTM_SOURCE = "utm_source", _("Campaign sources")
        UTM_CAMPAIGN = "utm_campaign", _("Campaigns")

    day = models.DateField()
    dimension = models.CharField(max_length=12)  # "page" or "goal"
    value = models.CharField(max_length=600, blank=True)
    split = models.CharField(max_length=12, choices=Split.choices)
    split_value = models.CharField(max_length=100, blank=True)
    visits = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("daily visit count per page and source")
        verbose_name_plural = _("daily visit counts per page and source")
        constraints = [
            models.UniqueConstraint(
                fields=["dimension", "value", "day", "split", "split_value"], name="reachstat_unique"
            )
        ]
        indexes = [models.Index(fields=["day"], name="reachstat_day")]

    class Privacy:
        not_personal = (
            "Daily visit counts per page or goal and one source value; no address or hash (P12, P21); "
            "deleted with the cube it is added up from (aggregate.forget_old_cube)."
        )

    def __str__(self) -> str:
        return f"{self.day} {self.dimension} {self.value} {self.split}={self.split_value}"


class PatternReach(models.Model):
    """``ReachStat``'s page rows of one day added up for one page-view goal's path pattern.

    A pattern such as ``/blog/*`` may match thousands of pages, each with a row per source value
    and day; these are the few rows its conversion rates read instead. Worked out by the hourly job
    (``goals.refresh_page_reach``) and when a page-view goal is added. ``totalled_at`` is the time
    the day's totals they were added up from were written (``TotalledDay``): once the day is worked
    out again they no longer match it and are not read. The row with an empty ``split`` marks the
    day as added up, also when no page matched (ADR 0028).
    """

    pattern = models.CharField(max_length=200)  # as ``Goal.match``
    day = models.DateField()
    totalled_at = models.DateTimeField()
    split = models.CharField(max_length=12, blank=True)
    split_value = models.CharField(max_length=100, blank=True)
    visits = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("daily visit count per page-view goal and source")
        verbose_name_plural = _("daily visit counts per page-view goal and source")
        constraints = [
            models.UniqueConstraint(
                fields=["pattern", "day", "totalled_at", "split", "split_value"], name="patternreach_unique"
            )
        ]
        indexes = [models.Index(fields=["day"], name="patternreach_day")]

    class Privacy:
        not_personal = (
            "Daily visit counts per path pattern and one source value; no address or hash (P12, P21); "
            "deleted with the cube (aggregate.forget_old_cube)."
        )

    def __str__(self) -> str:
        return f"{self.day} {self.pattern} {self.split}={self.split_value}"


class HourlyStat(models.Model):
    """Visits and visitors by the UTC hour a visit began, page views by the hour they were seen.

    ``day`` is the day whose aggregation wrote the row: a visit going on past midnight puts
    its later page views in an hour of the next day, so an hour may have two rows.
    """

    hour = models.DateTimeField()
    day = models.DateField()
    visitors = models.PositiveIntegerField(default=0)
    visits = models.PositiveIntegerField(default=0)
    pageviews = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("hourly total")
        verbose_name_plural = _("hourly totals")
        constraints = [models.UniqueConstraint(fields=["day", "hour"], name="hourlystat_unique")]
        indexes = [models.Index(fields=["hour"], name="hourlystat_hour")]

    class Privacy:
        not_personal = "Hourly counts; no address or hash (P12, P21)."

    def __str__(self) -> str:
        return f"{self.hour} {self.visits}"


class TotalledDay(models.Model):
    """What a day's totals were last worked out from: the raw hits they read, counted.

    The hourly job redoes a day only when this no longer matches, or was not settled (ADR 0026):
    a hit stored or deleted in the day's window since changes the count, the sum or the largest
    of their ids (ids only grow), and ``rules`` changes when a release works totals out
    differently. The count also tells a dashboard whether today is small enough to work out
    inside the page, and ``totalled_at`` how old today's figures are when it is not.
    """

    day = models.DateField(primary_key=True)
    hits = models.PositiveIntegerField()
    id_sum = models.BigIntegerField()
    newest = models.BigIntegerField()
    rules = models.PositiveSmallIntegerField()
    # Whether the hits were the same after the totals were written as before: only then are the
    # figures above exactly what the totals read (another process may store hits meanwhile).
    settled = models.BooleanField(default=True)
    totalled_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("totalled day")
        verbose_name_plural = _("totalled days")

    class Privacy:
        not_personal = "Per day a count, a sum and the largest of row ids; nothing about a visitor."

    def __str__(self) -> str:
        return f"{self.day} ({self.hits})"


class Dropped(models.Model):
    """How many hits of a day were not stored, and why; bots by the name of their agent."""

    class Reason(models.TextChoices):
        BOT = "bot", _("Bot or crawler")
        RATE = "rate", _("Too many from one network")
        INVALID = "invalid", _("Malformed or oversized")
        FOREIGN = "foreign", _("Sent from another site")
        UNKNOWN_PATH = "path", _("Page that does not exist")

    day = models.DateField()
    reason = models.CharField(max_length=8, choices=Reason.choices)
    agent = models.CharField(max_length=60, blank=True)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("count of hits not stored")
        verbose_name_plural = _("counts of hits not stored")
        constraints = [models.UniqueConstraint(fields=["day", "reason", "agent"], name="dropped_unique")]

    class Privacy:
        not_personal = "Counts per day, reason and bot name; no address or hash."

    def __str__(self) -> str:
        return f"{self.day} {self.reason} {self.count}"


class LogEvent(models.Model):
    """A technical log line for operating and securing the site (§4): an error or a security event."""

    class Kind(models.TextChoices):
        SERVER_ERROR = "error", _("Server error")
        LOGIN_FAILED = "login", _("Failed staff login")
        RATE_LIMITED = "rate", _("Rate limit reached")
        FORBIDDEN = "denied", _("Access denied")

    id = models.BigAutoField(primary_key=True)
    at = models.DateTimeField()
    kind = models.CharField(max_length=8, choices=Kind.choices)
    status = models.PositiveSmallIntegerField(default=0)
    method = models.CharField(max_length=8, blank=True)
    route = models.CharField(max_length=200, blank=True)  # the URL pattern, never the path with its values
    ip = models.CharField(max_length=45, blank=True)  # shortened
    browser = models.CharField(max_length=40, blank=True)
    detail = models.CharField(max_length=200, blank=True)  # a code or scope, never an identifier

    class Meta:
        verbose_name = _("technical log entry")
        verbose_name_plural = _("technical log")
        indexes = [
            models.Index(fields=["at"], name="logevent_at"),
        ]

    class Privacy:
        purpose = OPERATIONS
        retention = "technical_logs"
        identifiers = {"ip": "ip"}
        unindexed = {"ip": IP_UNINDEXED}
        clock = "at"
        erasure = "delete"
        bases = ("f",)
        export = ("at", "kind", "status", "method", "route", "ip", "browser", "detail")

    def __str__(self) -> str:
        return f"{self.kind} {self.route}"


from vern.analytics.reading_models import Goal, GoalCount, ReportRecipient, StatsToken  # noqa: E402

__all__ = ["DailyStat", "Dropped", "Goal", "GoalCount", "Hit", "LogEvent", "ReportRecipient", "Salt", "StatsToken"]
