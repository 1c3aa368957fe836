from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vern.settings")

django_application = get_wsgi_application()

from vern.analytics.collector import front  # noqa: E402 (needs the settings configured above)

# The analytics beacon is answered in front of Django's middleware (see collector.py).
application = front(django_application)
