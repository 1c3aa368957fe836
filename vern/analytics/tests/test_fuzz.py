"""Whatever bytes arrive, the parser refuses them cleanly or gives a beacon; the IP shortener never leaks."""

from __future__ import annotations

import ipaddress
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from vern.analytics.capture import (
    MAX_BODY,
    Beacon,
    Refused,
    check_beacon,
    parse_beacon,
    reduce_path,
    reduce_referrer,
    storable,
)
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
    assert storable(beacon.url) and storable(beacon.referrer)
    assert beacon.url.startswith("/") and not beacon.url.startswith("//")
    assert 0 <= beacon.engaged_ms <= 30 * 60 * 1000


ANY_TEXT = st.text(st.characters(codec=None, categories=None), max_size=300)  # surrogates and controls too


@settings(max_examples=400, deadline=None)
@given(ANY_TEXT, ANY_TEXT)
def test_what_a_checked_beacon_leaves_fits_its_columns_and_keeps_no_query(url, referrer):
    try:
        beacon = check_beacon("v", "/" + url, referrer, 0)
    except Refused:
        return
    path = reduce_path(beacon.url, frozenset({"utm_source"}))
    host, referrer_path = reduce_referrer(beacon.referrer, "kaukus.no")
    assert all(storable(text) for text in (path, host, referrer_path))
    assert len(path) <= 512 and len(host) <= 253 and len(referrer_path) <= 512
    assert "#" not in path and ("?" not in path or path.split("?", 1)[1].startswith("utm_source="))
    assert "?" not in referrer_path and "#" not in referrer_path


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
