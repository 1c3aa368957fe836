"""Where a visit came from: its country (from the full address, before it is shortened), its
campaign (the declared ``utm_`` parameters) and its referrer grouped into a channel.

The country is looked up in memory, in the country table the ``iptocc`` package ships (the
Regional Internet Registries' published delegations; see ADR 0019): an address goes in, a
two-letter code comes out, and only the code is kept. Nothing is written, logged or cached
by address. A private, loopback or unassigned address has no country (``""``).

The channel groups the referrer's host: ``search`` (a search engine), ``social`` (a social
network or its link shortener), ``direct`` (no referrer, or the site itself) or ``other``
(any other site). Hosts are matched on their registrable part, so ``www.google.no`` and
``google.com`` are both search.
"""

from __future__ import annotations

import functools
from urllib.parse import parse_qsl

from iptocc import country_code

CAMPAIGN_PARAMETERS = ("utm_source", "utm_medium", "utm_campaign")
CAMPAIGN_LENGTH = 100

SEARCH = "search"
SOCIAL = "social"
DIRECT = "direct"
OTHER = "other"
CHANNELS = (SEARCH, SOCIAL, DIRECT, OTHER)

# The first label of the host's name (after "www.", "m.", a country's "google.") decides.
_SEARCH_NAMES = frozenset(
    {
        "google",
        "bing",
        "duckduckgo",
        "yahoo",
        "yandex",
        "baidu",
        "ecosia",
        "qwant",
        "startpage",
        "kvasir",
        "naver",
        "seznam",
        "perplexity",
        "kagi",
    }
)
_SOCIAL_NAMES = frozenset(
    {
        "facebook",
        "fb",
        "instagram",
        "linkedin",
        "twitter",
        "reddit",
        "youtube",
        "tiktok",
        "pinterest",
        "threads",
        "snapchat",
        "vk",
        "discord",
        "whatsapp",
        "telegram",
        "messenger",
        "tumblr",
        "quora",
    }
)
# Hosts whose first label alone says too little (t, x, news, search).
_SOCIAL_HOSTS = frozenset(
    {"t.co", "x.com", "news.ycombinator.com", "mastodon.social", "lnkd.in", "bsky.app", "youtu.be", "fb.me"}
)
_SEARCH_HOSTS = frozenset({"search.brave.com", "search.yahoo.com", "kagi.com"})


def country_of(address: str) -> str:
    """The ISO 3166-1 alpha-2 country of a full address, or ``""``; never stored, only the code."""
    if not address:
        return ""
    try:
        code = country_code(address)
    except (ValueError, TypeError):
        return ""
    return code if isinstance(code, str) and len(code) == 2 and code.isalpha() else ""


@functools.lru_cache(maxsize=4096)
def channel_of(referrer_host: str) -> str:
    """The channel of a referrer host as ``capture.reduce_referrer`` keeps it ("" = direct)."""
    if not referrer_host:
        return DIRECT
    host = referrer_host.lower().rstrip(".")
    if host in _SOCIAL_HOSTS:
        return SOCIAL
    if host in _SEARCH_HOSTS:
        return SEARCH
    labels = host.split(".")
    for prefix in ("www", "m", "l", "lm", "mobile", "old", "new"):
        if len(labels) > 2 and labels[0] == prefix:
            labels = labels[1:]
    name = labels[0] if len(labels) >= 2 else host
    if name in _SEARCH_NAMES:
        return SEARCH
    if name in _SOCIAL_NAMES:
        return SOCIAL
    return OTHER


@functools.lru_cache(maxsize=8192)
def campaign_of(query: str, allowed: frozenset[str]) -> tuple[str, str, str]:
    """(utm_source, utm_medium, utm_campaign) of a query string, each only when declared."""
    wanted = allowed.intersection(CAMPAIGN_PARAMETERS)
    if not query or not wanted:
        return "", "", ""
    found: dict[str, str] = {}
    for key, value in parse_qsl(query, keep_blank_values=False):
        if key in wanted and key not in found:
            found[key] = value.strip().lower()[:CAMPAIGN_LENGTH]
    return found.get("utm_source", ""), found.get("utm_medium", ""), found.get("utm_campaign", "")
