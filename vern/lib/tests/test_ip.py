from __future__ import annotations

import pytest
from django.test import RequestFactory

from vern.lib.ip import client_ip_shortened, shorten_ip


@pytest.mark.parametrize(
    "raw,short",
    [
        ("203.0.113.77", "203.0.113.0"),
        ("2001:db8:85a3:1234:5678:8a2e:370:7334", "2001:db8:85a3::"),
        ("::ffff:198.51.100.9", "198.51.100.0"),
        ("not an ip", ""),
    ],
)
def test_addresses_are_shortened_to_their_network(raw, short):
    assert shorten_ip(raw) == short


def test_the_forwarded_address_is_used_only_behind_a_trusted_proxy(settings):
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.9, 203.0.113.5")
    settings.VERN_TRUST_PROXY_HEADERS = False
    assert client_ip_shortened(request) == "10.0.0.0"
    settings.VERN_TRUST_PROXY_HEADERS = True
    assert client_ip_shortened(request) == "203.0.113.0"
