"""CSV that a spreadsheet opens as data: the one writer every export uses.

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula, and
some also when a tab, carriage return or NUL comes first; a formula can fetch a web page or
start a program. Such a text cell gets a single quote in front (OWASP's advice on CSV
injection), which the spreadsheet shows as text.

Unicode's bidirectional controls (U+202A-U+202E, U+2066-U+2069, U+200E, U+200F, U+061C)
reorder what follows them, so that ``gpj.exe`` can read as ``exe.jpg`` or a cell can show
other digits than it holds. Each is written as a visible ``[U+202E]``: the reader sees that
the text carried one, and nothing is lost.

Numbers are data, not text: an ``int``, ``float`` or ``Decimal`` that vern holds as a number
(a negative one too) is written as it is, and a spreadsheet reads it as that number. Only text
is guarded, even text that looks like a number: ``"+4791234567"`` is a phone number, which a
spreadsheet would turn into 4791234567, and ``"-2+3"`` is a formula. ``None`` is an empty cell;
anything else (a date, a lazy translation) is written as its text, and guarded like any text.

What this does not do: a spreadsheet that splits on another separator (``;`` in a Norwegian
Excel) may start a cell inside a field. Open these files through the import dialog with the
comma as separator.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from _typeshed import SupportsWrite

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\0")
BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
_BIDI = re.compile(f"[{BIDI_CONTROLS}]")


def _visible(match: re.Match[str]) -> str:
    return f"[U+{ord(match.group()):04X}]"


def safe_text(text: str) -> str:
    """``text`` as a cell that shows what it holds and runs nothing."""
    text = _BIDI.sub(_visible, text)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def safe_cell(value: object) -> object:
    """One cell, ready for ``csv.writer``: numbers as they are, everything else as safe text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int) or (isinstance(value, float) and math.isfinite(value)):
        return value
    if isinstance(value, Decimal) and value.is_finite():
        return value
    return safe_text(value if isinstance(value, str) else str(value))


class Writer:
    """``csv.writer`` with every cell made safe; ``writerow`` returns what the file's ``write``
    returned, so a streaming response can pass the line on."""

    def __init__(self, file: SupportsWrite[str], **options: Any) -> None:
        self._writer = csv.writer(file, **options)

    def writerow(self, row: Iterable[object]) -> Any:
        return self._writer.writerow([safe_cell(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[object]]) -> None:
        for row in rows:
            self.writerow(row)


def writer(file: SupportsWrite[str], **options: Any) -> Writer:
    """A safe CSV writer on ``file``; ``options`` are ``csv.writer``'s (``lineterminator``, ...)."""
    return Writer(file, **options)
