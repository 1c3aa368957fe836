from __future__ import annotations

import pytest

from vern.lib.keys import email_index, phone_index
from vern.lib.normalise import InvalidIdentifier, mask_email, normalise_email, normalise_phone


@pytest.mark.parametrize(
    "raw,normal",
    [
        ("Ola.Nordmann@Example.NO", "ola.nordmann@example.no"),
        ("  ola@example.no \n", "ola@example.no"),
        ("kari@xn--rros-gra.no", "kari@røros.no"),
        ("kari@RØROS.no", "kari@røros.no"),
    ],
)
def test_spellings_of_one_email_address_normalise_to_one_form(raw, normal):
    assert normalise_email(raw) == normal


@pytest.mark.parametrize(
    "raw", ["", "ola", "ola@", "@example.no", "ola@@example.no", "ola@example", "a" * 250 + "@x.no"]
)
def test_what_is_not_an_email_address_is_refused_without_repeating_it(raw):
    with pytest.raises(InvalidIdentifier) as caught:
        normalise_email(raw)
    if raw.strip():
        assert raw not in str(caught.value)


@pytest.mark.parametrize(
    "raw,e164",
    [
        ("912 34 567", "+4791234567"),
        ("+47 912 34 567", "+4791234567"),
        ("0047 91234567", "+4791234567"),
        ("22 33 44 55", "+4722334455"),
        ("+46 70 123 45 67", "+46701234567"),
    ],
)
def test_phone_numbers_become_e164_with_norway_as_the_default_region(raw, e164):
    assert normalise_phone(raw) == e164


@pytest.mark.parametrize("raw", ["", "12", "not a number", "+47 123", "9" * 45])
def test_what_is_not_a_valid_phone_number_is_refused(raw):
    with pytest.raises(InvalidIdentifier):
        normalise_phone(raw)


def test_the_blind_index_finds_a_person_whatever_the_spelling(settings):
    assert email_index("Ola@Example.no") == email_index(" ola@example.NO")
    assert phone_index("+47 912 34 567") == phone_index("91234567")
    assert email_index("ola@example.no") != email_index("kari@example.no")


def test_a_masked_address_shows_only_first_letters():
    assert mask_email("ola.nordmann@example.no") == "o***@e***.no"


@pytest.mark.parametrize("raw", ["a\ufffd@x.no", "ola\x00@example.no", "ola\ud800@example.no"])
def test_an_address_with_broken_or_control_characters_is_refused(raw):
    with pytest.raises(InvalidIdentifier):
        normalise_email(raw)
