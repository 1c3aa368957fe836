"""Settings for the test suite: vern's own settings with test defaults in the environment.

``make test`` runs on SQLite in ``var/test/``; with ``DATABASE_URL`` pointing at
PostgreSQL (as ``.ci/run`` does), the same suite runs there. Tests that start
real worker processes need a database file they can open, so SQLite tests use a
file, not memory.
"""

from __future__ import annotations

import os
from pathlib import Path

_ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("VERN_DATA_DIR", str(_ROOT / "var" / "test"))
os.environ.setdefault("VERN_PUBLIC_URL", "http://testserver")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
os.environ.setdefault("VERN_EXTRA_JOB_MODULES", "vern.jobs.tests.sample_jobs")
os.environ.setdefault("EMAIL_URL", "console://")
# Fixed keys for the test databases only (they hold nothing but test data): on
# PostgreSQL vern never makes up keys, and child processes must share these.
os.environ.setdefault("SECRET_KEY", "test-secret-key-" + "x" * 40 + "-not-for-production")
os.environ.setdefault("VERN_ENCRYPTION_KEYS", "test:" + "A" * 43)
os.environ.setdefault("VERN_INDEX_KEY", "B" * 43)

from vern.settings import *  # noqa: E402,F403
from vern.settings import DATA_DIR, DATABASES  # noqa: E402

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}

# Django's test runner swaps in the in-memory mail backend; tests of real delivery
# point EMAIL_* at an aiosmtpd server they start themselves.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
LOGGING = {**LOGGING, "root": {"handlers": ["stderr"], "level": "WARNING"}}  # noqa: F405

# Static files straight from the apps (no collectstatic before the browser tests).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405
