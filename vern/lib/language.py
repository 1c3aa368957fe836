"""The language of the page being answered: Norwegian Bokmål unless the URL says English."""

from __future__ import annotations

from django.utils.translation import get_language


def page_language() -> str:
    return "en" if (get_language() or "nb").startswith("en") else "nb"
