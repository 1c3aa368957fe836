"""Password guessing slows down step by step, and nobody can use it to keep the owner out (P24)."""

from __future__ import annotations

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from vern.accounts.tests.test_login import STRONG

pytestmark = pytest.mark.django_db


def attempt(network: str, password: str, email: str = "ola@example.com"):
    return Client(REMOTE_ADDR=network).post("/staff/login/", {"email": email, "password": password})


@pytest.fixture
def ola(django_user_model):
    from vern.accounts.models import RoleGrant

    user = django_user_model.objects.create_user(email="ola@example.com", password=STRONG, name="Ola")
    RoleGrant.objects.create(user=user, role="sales")
    return user


def test_p24_failures_from_other_networks_never_keep_the_owner_out(ola):
    for n in range(60):  # a botnet: sixty guesses from twenty networks
        attempt(f"198.51.{n % 20}.7", "guess")
    own = attempt("192.0.2.10", STRONG)
    assert own.status_code == 302 and own["Location"].startswith("/staff/second-factor/")


def test_p24_successful_logins_never_count_toward_a_limit(ola):
    statuses = [attempt("192.0.2.10", STRONG).status_code for _ in range(20)]
    assert statuses == [302] * 20


def test_p24_after_three_failures_a_network_waits_longer_after_each_next_one(ola):
    network = "203.0.113.9"
    with time_machine.travel(timezone.now(), tick=False) as clock:
        assert [attempt(network, "guess").status_code for _ in range(3)] == [200, 200, 200]
        refused = attempt(network, STRONG)  # even the right password waits its turn
        assert refused.status_code == 429 and refused["Retry-After"] == "1"
        assert "Prøv igjen om 1 sekund." in refused.content.decode()
        clock.shift(1)
        assert attempt(network, "guess").status_code == 200  # the fourth failure: now wait 2 s
        clock.shift(1)
        assert attempt(network, STRONG).status_code == 429
        clock.shift(1)
        assert attempt(network, STRONG).status_code == 302  # and it starts afresh
        assert [attempt(network, "guess").status_code for _ in range(3)] == [200, 200, 200]


def test_p24_a_network_that_tries_many_accounts_waits_for_all_of_them(ola):
    for n in range(30):
        attempt("203.0.113.9", "guess", email=f"person{n}@example.com")
    assert attempt("203.0.113.9", STRONG).status_code == 429  # stuffing from that network stops
    assert attempt("192.0.2.10", STRONG).status_code == 302  # the owner elsewhere is not touched


def test_p24_a_network_s_failures_are_remembered_past_the_cache_s_five_minutes(ola):
    network = "203.0.113.9"
    with time_machine.travel(timezone.now(), tick=False) as clock:
        for _ in range(6):  # three free failures, then each after its wait (1, 2, 4 s)
            assert attempt(network, "guess").status_code == 200
            clock.shift(10)
        clock.shift(6 * 60)  # longer than the cache's default timeout of five minutes
        assert attempt(network, "guess").status_code == 200  # the seventh failure: 16 s to wait now
        assert attempt(network, STRONG).status_code == 429
