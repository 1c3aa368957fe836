from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest

from vern.lib import csvsafe
from vern.lib.csvsafe import safe_cell


def written(*rows: list[object]) -> list[list[str]]:
    """The rows as a spreadsheet's CSV import reads them back."""
    out = io.StringIO()
    csvsafe.writer(out).writerows(rows)
    return list(csv.reader(io.StringIO(out.getvalue())))


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r", "\0"])
def test_a_text_that_a_spreadsheet_would_run_is_quoted(start):
    assert written([f"{start}HYPERLINK(A1)", "ok"]) == [[f"'{start}HYPERLINK(A1)", "ok"]]


@pytest.mark.parametrize("control", list("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"))
def test_a_bidirectional_control_is_shown_instead_of_obeyed(control):
    assert safe_cell(f"faktura{control}fdp.exe") == f"faktura[U+{ord(control):04X}]fdp.exe"
    # Hidden in front of a formula, it neither disguises the cell nor lets the formula through.
    assert safe_cell(f"{control}=1+2") == f"[U+{ord(control):04X}]=1+2"


def test_ordinary_text_and_text_with_a_sign_inside_are_unchanged():
    for text in ["Kari Nordmann", "Bergen kommune (4600)", "a=b", "2+2", "x@example.no", " =1 ", "", "Åse – «ja»"]:
        assert safe_cell(text) == text


def test_numbers_are_written_as_numbers_and_texts_that_look_like_numbers_as_text():
    assert written([-12, 3.5, -0.25, Decimal("-7.10"), 0]) == [["-12", "3.5", "-0.25", "-7.10", "0"]]
    # Text is text: a phone number keeps its plus (a spreadsheet would make it 4791234567),
    # and "-2+3" would be computed.
    assert written(["+4791234567", "-12", "-2+3"]) == [["'+4791234567", "'-12", "'-2+3"]]
    assert written([float("-inf"), float("nan")]) == [["'-inf", "nan"]]


def test_other_values_are_written_as_their_text_and_guarded_like_text():
    assert written([None, True, dt.date(2026, 5, 20)]) == [["", "True", "2026-05-20"]]

    class Odd:
        def __str__(self) -> str:
            return "=cmd|' /C calc'!A0"

    assert safe_cell(Odd()) == "'=cmd|' /C calc'!A0"


def test_a_streamed_row_comes_back_from_writerow():
    class Echo:
        def write(self, value: str) -> str:
            return value

    assert csvsafe.writer(Echo()).writerow(["=1", 2]) == "'=1,2\r\n"
