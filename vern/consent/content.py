"""What the banner and the settings dialog show, built once per policy version and language.

The templates render from this content and nothing else, and its hash is stored
with every decision, so the proof says exactly which texts and buttons the
visitor saw (C12).
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _

from vern.consent.models import Snapshot
from vern.declaration.durations import Duration
from vern.declaration.models import PolicyVersion
from vern.declaration.selectors import declaration_of


def _build(version: PolicyVersion, language: str) -> dict[str, Any]:
    declaration = declaration_of(version)
    cookies = declaration.cookies
    with translation.override(language):
        title = cookies.banner.title.get(language) if cookies.banner else _("Cookies")
        text = (
            cookies.banner.text.get(language)
            if cookies.banner
            else _("We use necessary cookies to make this site work, and others only with your consent.")
        )
        return {
            "version": version.number,
            "revision": version.consent_revision,
            "language": language,
            "lifetime": Duration.parse(cookies.consent_lifetime).text(language).lower(),
            "banner": {"title": title, "text": text, "policy": _("Privacy policy")},
            "settings": {
                "title": _("Cookie settings"),
                "intro": cookies.managing_consent.get(language),
                "always_on": _("Always on"),
                "gpc": _(
                    "Your browser asks websites not to share your data (Global Privacy Control), so this stays off."
                ),
                "receipt": _("Your choice"),
                "close": _("Close"),
                "cookies": _("Cookies"),
                "name": _("Name"),
                "provider": _("Provider"),
                "duration": _("Duration"),
                "purpose": _("Purpose"),
            },
            "buttons": {
                "accept_all": _("Accept all"),
                "reject_all": _("Reject all"),
                "settings": _("Settings"),
                "save": _("Save choices"),
            },
            "categories": [
                {
                    "id": category.id,
                    "name": category.name.get(language),
                    "description": category.description.get(language),
                    "consent_required": category.consent_required,
                    "gpc_refused": category.id in cookies.gpc_refuses,
                    "cookies": [
                        {
                            "name": cookie.name,
                            "provider": cookie.provider,
                            "duration": Duration.parse(cookie.duration, allow_session=True).text(language),
                            "purpose": cookie.purpose.get(language),
                        }
                        for cookie in cookies.cookies
                        if cookie.category == category.id
                    ],
                }
                for category in cookies.categories
            ],
        }


def content_hash(content: dict[str, Any]) -> str:
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@lru_cache(maxsize=16)
def _cached(version_pk: int, content_hash_of_version: str, language: str) -> tuple[str, str]:
    version = PolicyVersion.objects.get(pk=version_pk)
    content = _build(version, language)
    return content_hash(content), json.dumps(content, ensure_ascii=False)


def banner_content(version: PolicyVersion, language: str) -> tuple[str, dict[str, Any]]:
    """(hash, content) of the banner for a published version, in Bokmål or English."""
    digest, text = _cached(version.pk, version.content_hash, language)
    return digest, json.loads(text)


def snapshot_store(digest: str, content: dict[str, Any]) -> Snapshot:
    """Keep the shown content once per hash, so each decision can point at it."""
    snapshot, _created = Snapshot.objects.get_or_create(hash=digest, defaults={"content": content})
    return snapshot
