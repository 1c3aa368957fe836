from __future__ import annotations

import pytest

from vern.lib.origins import normal_origin


@pytest.mark.parametrize(
    "raw,origin",
    [
        ("https://kaukus.no", "https://kaukus.no"),
        ("HTTPS://Kaukus.NO:443/", "https://kaukus.no"),
        ("http://127.0.0.1:8000/contact/?x=1", "http://127.0.0.1:8000"),
        ("http://[::1]:80", "http://[::1]"),
        ("null", ""),
        ("ftp://kaukus.no", ""),
        ("https://kaukus.no:99999", ""),
        ("", ""),
    ],
)
def test_an_origin_is_written_the_way_browsers_send_it(raw, origin):
    assert normal_origin(raw) == origin
