from __future__ import annotations

from django.apps import AppConfig


class EnquiriesConfig(AppConfig):
    name = "vern.enquiries"
    label = "enquiries"
    verbose_name = "Enquiries"

    def ready(self) -> None:
        from vern.accounts.selectors import TILE_SOURCES
        from vern.enquiries.selectors import console_tiles

        if console_tiles not in TILE_SOURCES:
            TILE_SOURCES.append(console_tiles)
