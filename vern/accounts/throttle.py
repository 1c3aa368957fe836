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
success takes it back. The counts live in the shared counters (``vern.lib.counters``: their
own database table, or Redis with ``REDIS_URL``), where each change is one atomic step and
nothing culls a count before its time.
"""

from __future__ import annotations

import datetime as dt
import math
import time

from vern.lib import counters
from vern.lib.backoff import backoff
from vern.lib.keys import digest
from vern.lib.ratelimit import Limit

FREE_FAILURES = 3
FIRST_WAIT = dt.timedelta(seconds=1)
LONGEST_WAIT = dt.timedelta(minutes=15)
NETWORK_FAILURES = Limit("staff-login-network-failures", limit=30, window_seconds=15 * 60)
LONGEST_SECONDS = int(LONGEST_WAIT.total_seconds())


FAILURES = "login-failures"  # per account from one network; kept alive by each failure
LAST_FAILURE = "login-failure-at"  # when the last attempt was admitted, in milliseconds
KEPT = LONGEST_SECONDS * 2


def _key(account: str, network: str) -> str:
    return digest(f"{account}\n{network}", purpose="login-failures")


def _network_window() -> tuple[int, int]:
    window = NETWORK_FAILURES.window_seconds
    start = int(time.time()) // window * window
    return start, start + window + 5


def _network_key(network: str) -> str:
    return digest(network, purpose="login-network")


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
    start, expires = _network_window()
    network_key = _network_key(network)
    if counters.add(NETWORK_FAILURES.scope, network_key, window=start, expires_at=expires) > NETWORK_FAILURES.limit:
        counters.subtract(NETWORK_FAILURES.scope, network_key, window=start)
        return expires - 5 - int(time.time())
    key, now = _key(account, network), time.time()
    failures = counters.add(FAILURES, key, window=0, expires_at=int(now) + KEPT)
    # A count past the free failures with no time yet: an attempt in parallel has just been admitted.
    last = counters.value(LAST_FAILURE, key, window=0)
    wait = _remaining(failures, last / 1000 if last else now)
    if wait:
        counters.subtract(FAILURES, key, window=0)
        counters.subtract(NETWORK_FAILURES.scope, network_key, window=start)
        return wait
    counters.put(LAST_FAILURE, key, window=0, value=int(now * 1000), expires_at=int(now) + KEPT)
    return 0


def succeeded(*, account: str, network: str) -> None:
    """The right password: the attempt was not a failure, and this network starts afresh for the account."""
    start, _ = _network_window()
    counters.subtract(NETWORK_FAILURES.scope, _network_key(network), window=start)
    key = _key(account, network)
    counters.forget(FAILURES, key, window=0)
    counters.forget(LAST_FAILURE, key, window=0)
