"""Whatever bytes arrive, the parser refuses them cleanly or gives a beacon; the IP shortener never leaks."""

from __future__ import annotations

import ipaddress
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from vern.analytics.capture import MAX_BODY, Beacon, Refused, parse_beacon, reduce_path, reduce_referrer
from vern.lib.ip import shorten_ip

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(["k", "u", "r", "e", "x"]), inner),
    max_leaves=12,
)


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=3000) | JSON.map(lambda v: json.dumps(v).encode()))
def test_the_beacon_parser_refuses_cleanly_or_returns_a_well_formed_beacon(body):
    try:
        beacon = parse_beacon(body)
    except Refused as refused:
        assert refused.status in (400, 413)
        return
    assert isinstance(beacon, Beacon) and len(body) <= MAX_BODY
    assert beacon.url.startswith("/") and not beacon.url.startswith("//")
    assert 0 <= beacon.engaged_ms <= 30 * 60 * 1000


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_reduced_paths_never_keep_a_query_or_fragment_unless_named(url):
    path = reduce_path("/" + url, frozenset())
    assert "?" not in path and "#" not in path and len(path) <= 512


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_reduced_referrers_keep_no_query(referrer):
    host, path = reduce_referrer(referrer, "kaukus.no")
    assert "?" not in path and "#" not in path and len(host) <= 253


@settings(max_examples=500, deadline=None)
@given(st.ip_addresses())
def test_a_shortened_address_keeps_at_most_its_network_part(address):
    short = shorten_ip(str(address))
    network = ipaddress.ip_address(short)
    mapped = getattr(address, "ipv4_mapped", None)
    if address.version == 6 and mapped is None:
        assert int(network) & ((1 << 80) - 1) == 0  # the last 80 bits are zero
        assert network == ipaddress.ip_network(f"{address}/48", strict=False).network_address
    else:
        original = mapped or address
        assert network == ipaddress.ip_network(f"{original}/24", strict=False).network_address


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=60))
def test_anything_else_shortens_to_nothing_or_a_network(raw):
    short = shorten_ip(raw)
    if short:
        address = ipaddress.ip_address(short)
        assert str(address) == short
        assert (address.version == 4 and short.endswith(".0")) or (
            address.version == 6 and int(address) & ((1 << 80) - 1) == 0
        )
