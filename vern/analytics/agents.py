"""What a user agent string says: browser and system families with their major version, device, bot.

The string itself is never stored. ua-parser 1.x with its compiled (Rust) resolver
does about 70,000 strings a second here; crawlerdetect is slower (about 3,000) but
catches the bots ua-parser misses (headless browsers, HTTP libraries, AI crawlers),
so both answers are cached per distinct string: real traffic repeats a few
hundred browsers. An empty or absurd string is a bot by definition.
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass

from crawlerdetect import CrawlerDetect
from ua_parser import parse

MAX_LENGTH = 512  # a longer user agent is not a browser
_crawlers = CrawlerDetect()
_crawlers_lock = threading.Lock()
_MOBILE_OS = ("Android", "iOS", "Windows Phone", "KaiOS", "BlackBerry OS")


@dataclass(frozen=True)
class Agent:
    browser: str
    browser_version: str
    os: str
    os_version: str
    device: str  # desktop, mobile, tablet or other
    bot: str  # the bot's name when it is one, else ""


def _short(value: str | None, length: int) -> str:
    return (value or "")[:length]


def _device(os_family: str, device_family: str, ua: str) -> str:
    android_tablet = os_family == "Android" and "Mobile" not in ua
    if device_family.startswith(("iPad", "Kindle")) or "Tablet" in ua or android_tablet:
        return "tablet"
    if os_family in _MOBILE_OS or "Mobile" in ua:
        return "mobile"
    if os_family in ("Windows", "Mac OS X", "Linux", "Ubuntu", "Fedora", "Chrome OS", "FreeBSD"):
        return "desktop"
    return "other"


@functools.lru_cache(maxsize=4096)
def read_agent(ua: str) -> Agent:
    ua = ua.strip()
    if not ua or len(ua) > MAX_LENGTH:
        return Agent("", "", "", "", "other", "no user agent" if not ua else "oversized user agent")
    if not ua.isprintable():
        return Agent("", "", "", "", "other", "malformed user agent")
    with _crawlers_lock:  # the detector keeps its last match on itself
        crawler = _crawlers.isCrawler(ua)
        name = str(_crawlers.getMatches() or "crawler")[:60] if crawler else ""
    if crawler:
        return Agent("", "", "", "", "other", name)
    result = parse(ua)
    browser, system, device = result.user_agent, result.os, result.device
    if device is not None and device.family == "Spider":
        return Agent("", "", "", "", "other", _short(browser.family if browser else "spider", 60))
    os_family = _short(system.family if system else "", 40)
    return Agent(
        browser=_short(browser.family if browser else "", 40),
        browser_version=_short(browser.major if browser else "", 8),
        os=os_family,
        os_version=_short(system.major if system else "", 8),
        device=_device(os_family, device.family if device else "", ua),
        bot="",
    )
