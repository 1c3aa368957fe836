"""Withdrawing consent through a rights request ends a newsletter subscription stored under the old
index key, half-way through a key rotation (P15, P22)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from vern.keys.tests.helpers import rotate_settings
from vern.lib.keys import email_index, email_indexes
from vern.newsletter.models import Subscription, Suppression
from vern.newsletter.tests.helpers import confirmed
from vern.rights.services.intake import request_register

pytestmark = pytest.mark.django_db


def test_p15_p22_a_withdrawal_made_under_the_new_key_ends_a_subscription_under_the_old_one(
    published: Any, personas: Any, settings: Any
) -> None:
    subscription = confirmed("kari@example.no")
    old = email_index("kari@example.no")
    rotate_settings(settings)  # a new index key in front; the subscription is not recomputed yet
    request = request_register(
        staff=personas.privacy_officer,
        rights=["withdraw_consent"],
        channel="email",
        received_at=timezone.now() - dt.timedelta(hours=1),
        email="kari@example.no",
        details="Jeg vil ikke ha nyhetsbrev lenger.",
        identity_checked=True,
    )
    assert request.email_index == email_indexes("kari@example.no")[0] != old == subscription.email_index
    # vern carries the withdrawal out by itself once the request is confirmed (identity checked here).
    request.refresh_from_db()
    assert request.status == "answered"
    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.ENDED
    assert Suppression.objects.filter(email_index=old).exists()  # never mailed again
