from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Counter(models.Model):
    """One rate-limit or login-throttle counter; ``vern.lib.counters`` reads and writes it in SQL.

    Its own table, not the cache's: nothing culls it when it fills, so a flood from many
    networks cannot reset the count of the one that floods (issue 15). Expired rows are
    swept by the worker.
    """

    pk = models.CompositePrimaryKey("scope", "bucket", "window_start")
    scope = models.CharField(max_length=64)  # what is limited, e.g. "consent"
    bucket = models.CharField(max_length=64)  # keyed digest of a network or an address
    window_start = models.BigIntegerField()  # Unix seconds; 0 for a counter without windows
    count = models.BigIntegerField()
    expires_at = models.BigIntegerField(db_index=True)  # Unix seconds

    class Meta:
        db_table = "vern_counter"
        verbose_name = _("rate-limit counter")
        verbose_name_plural = _("rate-limit counters")

    class Privacy:
        not_personal = (
            "Counts under keyed digests of a shortened IP or an address, never either one; each row "
            "lives for one rate-limit window (a day at most) and the worker deletes it after."
        )
        not_personal_fields = ("scope",)

    def __str__(self) -> str:
        return f"{self.scope} {self.window_start}: {self.count}"
