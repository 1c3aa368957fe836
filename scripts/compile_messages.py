"""Compile every vern/locale/*/LC_MESSAGES/django.po into its .mo, in pure Python (polib).

Run by ``make messages``; the compiled .mo files are committed, so a fresh clone
needs no gettext tools. ``vern/site/tests/test_translations.py`` fails when a
.mo is older than its .po or a text lacks its Norwegian translation.
"""

from __future__ import annotations

import sys
from pathlib import Path

import polib

LOCALE = Path(__file__).resolve().parent.parent / "vern" / "locale"


def compile_all() -> list[Path]:
    written = []
    for po_path in sorted(LOCALE.glob("*/LC_MESSAGES/django.po")):
        catalogue = polib.pofile(str(po_path))
        mo_path = po_path.with_suffix(".mo")
        catalogue.save_as_mofile(str(mo_path))
        written.append(mo_path)
    return written


if __name__ == "__main__":
    for path in compile_all():
        sys.stdout.write(f"compiled {path.relative_to(LOCALE.parent.parent)}\n")
