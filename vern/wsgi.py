from __future__ import annotations

import logging
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vern.settings")

django_application = get_wsgi_application()

from vern.analytics.collector import front  # noqa: E402 (needs the settings configured above)

# The analytics beacon is answered in front of Django's middleware (see collector.py).
application = front(django_application)


def warm() -> None:
    """Read what beacons and consent choices need before the first request. ``vern serve`` calls it
    before it forks its workers, so each starts with it and can keep both during a database outage
    (docs/analytics.md, docs/consent.md). With the database down now, each reads it later."""
    from django.db import connections

    from vern.analytics.capture import warm as warm_analytics
    from vern.consent.services import consent_warm
    from vern.lib.outage import is_outage

    try:
        warm_analytics()
        consent_warm()
    except Exception as exc:
        if not is_outage(exc):
            logging.getLogger("vern").exception("could not read the settings for beacons and consent at start-up")
    finally:
        connections.close_all()  # no connection is shared with the forked workers
