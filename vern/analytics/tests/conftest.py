from __future__ import annotations

from vern.analytics.tests.doors import send  # noqa: F401 (a fixture for the tests here)
