"""Slowing down password guessing without letting an attacker lock the owner out (P24).

Only failures count, never successful logins. They are counted for each account from
each network (a shortened IP, as ``client_ip_shortened`` gives it), and for each network
across all accounts:

- after ``FREE_FAILURES`` failures for one account from one network, that network must
  wait before trying that account again: 1 s, then 2, 4, 8 … seconds after each further
  failure, never more than ``LONGEST_WAIT``; a success from that network starts afresh;
- a network with ``NETWORK_FAILURES.limit`` failures in 15 minutes, whatever the accounts
  (credential stuffing), waits until those 15 minutes are over.

Failures from other networks never hold back the owner's own network, so guessing an
administrator's password from anywhere cannot keep them out. Keys are keyed digests of
the address and the network, never either one itself.
"""

from __future__ import annotations

import datetime as dt
import math
import time

from django.core.cache import cache

from vern.lib.backoff import backoff
from vern.lib.keys import digest
from vern.lib.ratelimit import Limit, allowed, hit

FREE_FAILURES = 3
FIRST_WAIT = dt.timedelta(seconds=1)
LONGEST_WAIT = dt.timedelta(minutes=15)
NETWORK_FAILURES = Limit("staff-login-network-failures", limit=30, window_seconds=15 * 60)


def _key(account: str, network: str) -> str:
    return "login-failures:" + digest(f"{account}\n{network}", purpose="login-failures")


def wait_before_attempt(*, account: str, network: str) -> int:
    """Whole seconds this network must still wait before trying this account's password; 0 when it may."""
    if not allowed(NETWORK_FAILURES, network):
        window = NETWORK_FAILURES.window_seconds
        return window - int(time.time()) % window
    failures, last = cache.get(_key(account, network), (0, 0.0))
    if failures < FREE_FAILURES:
        return 0
    wait = backoff(failures - FREE_FAILURES + 1, base=FIRST_WAIT, cap=LONGEST_WAIT).total_seconds()
    return max(0, math.ceil(float(last) + wait - time.time()))


def failed(*, account: str, network: str) -> None:
    """Count a wrong password (or an unknown address) for this account from this network."""
    hit(NETWORK_FAILURES, network)
    key = _key(account, network)
    failures, _ = cache.get(key, (0, 0.0))
    # Kept as long as the longest wait it can cause, and forgotten after that.
    cache.set(key, (failures + 1, time.time()), timeout=int(LONGEST_WAIT.total_seconds()) * 2)


def succeeded(*, account: str, network: str) -> None:
    """The right password from this network: its count for this account starts afresh."""
    cache.delete(_key(account, network))
