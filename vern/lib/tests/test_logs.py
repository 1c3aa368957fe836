from __future__ import annotations

import logging

from vern.lib.logs import RedactingFormatter, find_identifiers, redact


def test_email_addresses_phone_numbers_and_full_ip_addresses_are_redacted():
    line = redact("mail to ola@example.no from 203.0.113.77 and 2001:db8:85a3:0:0:8a2e:370:7334, tlf +47 912 34 567")
    assert "ola@example.no" not in line and "[email]" in line
    assert "203.0.113.0" in line and "203.0.113.77" not in line
    assert "2001:db8:85a3::" in line and "7334" not in line
    assert "912 34 567" not in line and "[phone]" in line


def test_dates_times_and_short_numbers_are_left_alone():
    text = "job 42 done at 2026-11-29 01:04:28 in 120ms, due 2026-12-29"
    assert redact(text) == text


def test_the_formatter_redacts_messages_and_tracebacks_but_not_the_timestamp():
    formatter = RedactingFormatter("%(asctime)s %(message)s")
    try:
        raise ValueError("bad address kari@example.no")
    except ValueError:
        import sys

        record = logging.LogRecord(
            "x", logging.ERROR, __file__, 1, "sending to %s", ("ola@example.no",), sys.exc_info()
        )
    output = formatter.format(record)
    assert "ola@example.no" not in output and "kari@example.no" not in output
    assert "sending to [email]" in output
    assert "ValueError: bad address [email]" in output
    assert output[:4].isdigit()


def test_norwegian_addresses_and_every_ipv6_spelling_are_redacted():
    line = redact("fra åse.ødegård@blåbær.no via 2001:db8::1 og 2a01:79d:53aa:9a00::1 og ::ffff:198.51.100.9")
    assert "åse" not in line and "blåbær" not in line and line.count("[email]") == 1
    assert "2001:db8::" in line and "2001:db8::1" not in line
    assert "2a01:79d:53aa::" in line and "9a00" not in line
    assert "198.51.100.9" not in line


def test_times_and_version_numbers_are_not_taken_for_addresses():
    text = "took 01:04:28.5 with Django 5.2.19 on 12:30"
    assert redact(text) == text


def test_a_phone_number_at_the_end_of_a_sentence_is_still_found():
    assert redact("Ring meg på 41 23 45 67.") == "Ring meg på [phone]."
    assert find_identifiers("Ring meg på 41 23 45 67.") == ["phone"]
    assert "12345678.90" in redact("Beløp 12345678.90 kr")
