"""Consent statistics for the analytics dashboard, read from the consent app's proof chain through its surface."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from vern.registry import surface
from vern.tests.consenting import cookie_choice

pytestmark = pytest.mark.django_db


def test_consent_statistics_come_from_the_proof_chain_by_category_revision_and_language(published):
    for choice in ("accept_all", "accept_all", "reject_all", "reject_all"):
        cookie_choice(choice)
    today = timezone.localdate()
    stats = surface.consent_statistics(today - dt.timedelta(days=1), today + dt.timedelta(days=1))
    assert stats is not None
    assert (stats.decisions, stats.accepted_any, stats.rate, stats.gpc_share) == (4, 2, 50.0, 0.0)
    assert {r.value: (r.decisions, r.accepted) for r in stats.by_revision} == {"1": (4, 2)}
    assert {r.value: (r.decisions, r.accepted) for r in stats.by_language} == {"nb": (4, 2)}
    assert stats.by_category and all((r.decisions, r.accepted) == (4, 2) for r in stats.by_category)
