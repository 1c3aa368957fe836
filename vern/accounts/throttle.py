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

An attempt is counted before its password is checked, in the step that admits it, and a
success takes it back. With Redis (``REDIS_URL``) that step is one atomic INCR; the database
cache's increment reads and then writes, so parallel attempts there can still lose a count
(issue 15 gives the counters a table of their own).
"""

from __future__ import annotations

import datetime as dt
import math
import time

from django.core.cache import cache

from vern.lib.backoff import backoff
from vern.lib.keys import digest
from vern.lib.ratelimit import Limit

FREE_FAILURES = 3
FIRST_WAIT = dt.timedelta(seconds=1)
LONGEST_WAIT = dt.timedelta(minutes=15)
NETWORK_FAILURES = Limit("staff-login-network-failures", limit=30, window_seconds=15 * 60)
LONGEST_SECONDS = int(LONGEST_WAIT.total_seconds())


def _key(account: str, network: str) -> str:
    return "login-failures:" + digest(f"{account}\n{network}", purpose="login-failures")


def _count_up(key: str, timeout: int) -> int:
    """Add one to a counter and return it, in one step where the cache allows (Redis: INCR)."""
    if cache.add(key, 1, timeout=timeout):
        return 1
    try:
        count = int(cache.incr(key))
    except ValueError:  # expired between add() and incr()
        cache.add(key, 1, timeout=timeout)
        return 1
    cache.touch(key, timeout)  # the database cache's incr would keep it for its default 5 minutes only
    return count


def _count_down(key: str, timeout: int) -> None:
    try:
        cache.decr(key)
    except ValueError:
        return
    cache.touch(key, timeout)


def _remaining(failures: int, last: float) -> int:
    if failures <= FREE_FAILURES:
        return 0
    wait = backoff(failures - FREE_FAILURES, base=FIRST_WAIT, cap=LONGEST_WAIT).total_seconds()
    return max(0, math.ceil(last + wait - time.time()))


def attempt(*, account: str, network: str) -> int:
    """Admit one password attempt for this account from this network, or say how many whole
    seconds it must wait first (then it is not counted).

    The attempt is counted as a failure before the password is checked, in the same step that
    admits it, so parallel attempts cannot all slip through between a check and a count;
    ``succeeded`` takes it back. Refused attempts are not counted.
    """
    window = NETWORK_FAILURES.window_seconds
    if _count_up(_network_key(network), window + 5) > NETWORK_FAILURES.limit:
        _count_down(_network_key(network), window + 5)
        return window - int(time.time()) % window
    key = _key(account, network)
    failures = _count_up(key, LONGEST_SECONDS * 2)
    # A count past the free failures with no time yet: an attempt in parallel has just been admitted.
    wait = _remaining(failures, float(cache.get(key + ":last", time.time())))
    if wait:
        _count_down(key, LONGEST_SECONDS * 2)
        _count_down(_network_key(network), window + 5)
        return wait
    cache.set(key + ":last", time.time(), timeout=LONGEST_SECONDS * 2)
    return 0


def succeeded(*, account: str, network: str) -> None:
    """The right password: the attempt was not a failure, and this network starts afresh for the account."""
    _count_down(_network_key(network), NETWORK_FAILURES.window_seconds + 5)
    key = _key(account, network)
    cache.delete_many([key, key + ":last"])


def _network_key(network: str) -> str:
    window = int(time.time()) // NETWORK_FAILURES.window_seconds
    return f"login-network:{window}:" + digest(network, purpose="login-network")
