"""What a site really does, seen from headless Chromium, in four passes (``vern scan``).

Each pass starts from an empty browser: **none** (the banner is left alone), **reject**
(reject all on the first page), **accept** (accept all), and **withdraw** (accept all,
then reject all again from the settings). Every pass visits the same pages, which the
first pass found by following same-origin links, and records every cookie (with the
response that set it, or the page whose script did), the names in local and session
storage and IndexedDB, and every request to another origin with the page that made it.

Nothing here judges: ``vern.scanner.findings`` compares what was seen with the declaration.
Time is bounded: each page load and the whole scan have a limit, and a scan that runs out
of time, meets a page that does not load, or a redirect that leaves the site, stops there
and says so in ``problems``, with what it saw until then.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag, urljoin, urlsplit

PASSES = ("none", "reject", "accept", "withdraw")
# A pass that stopped: kept in English with the scan (its digest covers it); the console words it
# in the reader's language by reading it back with PARTIAL.
PARTIAL = re.compile(r"pass (none|reject|accept|withdraw): (.*); the report is partial", re.DOTALL)


NOT_INSTALLED = "Playwright is not installed: pip install 'vern[scan]'"


def partial(name: str, reason: str) -> str:
    return f"pass {name}: {reason}; the report is partial"


# How long the page's own scripts get after it loaded, to set what they set.
SETTLE_MS = 400
BANNER = "#vc-banner"
SETTINGS_OPENERS = "[data-consent-open], [data-vc-open]"
MAX_COOKIES = 500  # a page that sets endless cookies is cut off here, and it is said


class ScanFailed(RuntimeError):
    """The site could not be scanned at all (unreachable, or not a web page)."""


class ScanStopped(RuntimeError):
    """The scan stopped part-way (out of time, or led off the site); what it saw stands."""


@dataclass
class SeenCookie:
    name: str
    domain: str
    path: str
    expires: float  # seconds since the epoch; -1 for a browser-session cookie
    http_only: bool
    secure: bool
    same_site: str
    page: str  # the first page it was seen on
    set_by: str  # the response that set it, or "a script on PAGE"


@dataclass
class SeenRequest:
    url: str  # without its query: queries carry identifiers
    page: str
    kind: str  # Playwright's resource type: script, image, xhr, …
    initiator: str  # the frame that asked


@dataclass
class ButtonLook:
    width: float
    height: float
    weight: str
    color: str
    background: str
    font_size: str


@dataclass
class PassSeen:
    name: str
    cookies: dict[str, SeenCookie] = field(default_factory=dict)
    storage: dict[str, str] = field(default_factory=dict)  # "localStorage: key" → first page
    requests: list[SeenRequest] = field(default_factory=list)
    pages: list[str] = field(default_factory=list)
    without_settings: list[str] = field(default_factory=list)  # pages with no way back to the choices
    banner: bool = False  # whether the first page showed the banner
    buttons: dict[str, ButtonLook] = field(default_factory=dict)  # accept_all / reject_all on the first layer
    preticked: list[str] = field(default_factory=list)  # optional categories switched on before any choice
    axe: list[dict[str, Any]] = field(default_factory=list)  # axe-core's violations inside the banner
    acted: bool = True  # whether the pass's action (reject, accept, withdraw) could be done
    shot: bytes = b""  # the first page as the pass left it (JPEG), when asked for


@dataclass
class Scan:
    start: str
    origin: str
    scanned_at: float
    passes: dict[str, PassSeen] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    # Where vern's banner itself comes from, when the site embeds it from another origin: part of
    # the consent management, not a third party.
    banner_origins: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.problems


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def without_query(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


class _Clock:
    def __init__(self, seconds: float) -> None:
        self.ends = time.monotonic() + seconds

    def left_ms(self, cap: float) -> float:
        left = (self.ends - time.monotonic()) * 1000
        if left <= 0:
            raise ScanStopped("the scan ran out of time")
        return min(left, cap)


def scan(
    url: str,
    *,
    also: Sequence[str] = (),
    pages: int = 10,
    timeout: float = 120.0,
    chromium: str = os.environ.get("VERN_CHROMIUM", "/usr/bin/chromium"),
    shots: bool = False,
) -> Scan:
    """Scan ``url``, the pages ``also`` names, and more pages of its origin found by their links,
    up to ``pages`` in all, in four passes; see the module.

    The browser runs on a thread of its own: Playwright's synchronous API refuses a thread
    that already has an event loop (an async caller, or another Playwright user).
    """
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["scan"] = _scan(url, also=also, pages=pages, timeout=timeout, chromium=chromium, shots=shots)
        except BaseException as exc:  # handed to the caller's thread as it is
            outcome["error"] = exc

    thread = threading.Thread(target=run, name="vern-scan", daemon=True)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["scan"]  # type: ignore[no-any-return]


def _scan(url: str, *, also: Sequence[str], pages: int, timeout: float, chromium: str, shots: bool) -> Scan:
    from playwright.sync_api import Error as BrowserError
    from playwright.sync_api import sync_playwright

    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ScanFailed(f"{url!r} is not a web address (http:// or https://)")
    result = Scan(start=url, origin=origin_of(url), scanned_at=time.time())
    for other in also:
        if origin_of(other) != result.origin:
            raise ScanFailed(f"{other} is not on {result.origin}; scan each site on its own")
    clock = _Clock(timeout)
    with sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(executable_path=chromium, headless=True)
        except BrowserError as exc:
            raise ScanFailed(f"Chromium could not start from {chromium}: {str(exc).splitlines()[0]}") from exc
        try:
            found = list(dict.fromkeys([url, *also]))
            for name in PASSES:
                seen = PassSeen(name=name)
                result.passes[name] = seen
                try:
                    _one_pass(browser, seen, found, result, clock, limit=pages, discover=name == "none", shots=shots)
                except ScanStopped as exc:
                    result.problems.append(partial(name, str(exc)))
                    break
                except BrowserError as exc:
                    message = str(exc).splitlines()[0]
                    if name == "none" and not seen.pages:
                        raise ScanFailed(f"{url} could not be loaded: {message}") from exc
                    result.problems.append(partial(name, message))
        finally:
            browser.close()
    return result


def _one_pass(
    browser: Any,
    seen: PassSeen,
    found: list[str],
    result: Scan,
    clock: _Clock,
    *,
    limit: int,
    discover: bool,
    shots: bool = False,
) -> None:
    context = browser.new_context(ignore_https_errors=False)
    page = context.new_page()
    set_by: dict[str, str] = {}

    def on_response(response: Any) -> None:
        for header in response.headers_array():
            if header["name"].lower() == "set-cookie":
                for line in header["value"].split("\n"):
                    set_by.setdefault(line.split("=", 1)[0].strip(), without_query(response.url))

    def on_request(request: Any) -> None:
        if not request.url.startswith(("http://", "https://")) or origin_of(request.url) == result.origin:
            return
        frame = request.frame
        if request.is_navigation_request() and frame == page.main_frame:
            return  # the page itself going elsewhere: reported as leaving the site, not as a third party
        seen.requests.append(
            SeenRequest(
                url=without_query(request.url),
                page=without_query(page.url),
                kind=request.resource_type,
                initiator=without_query(frame.url) if frame is not None and frame.url else "",
            )
        )

    page.on("response", on_response)
    context.on("request", on_request)
    try:
        queue = list(found)
        visited: list[str] = []
        while queue and len(visited) < limit:
            address = queue.pop(0)
            if address in visited:
                continue
            _visit(page, address, result, clock)
            visited.append(address)
            seen.pages.append(without_query(page.url))
            if len(visited) == 1:
                for origin in page.eval_on_selector_all("script[data-origin]", "s => s.map(e => e.dataset.origin)"):
                    if origin and origin_of(origin) != result.origin and origin_of(origin) not in result.banner_origins:
                        result.banner_origins.append(origin_of(origin))
                _first_page(page, seen, clock)
                if shots:
                    seen.shot = page.screenshot(type="jpeg", quality=60, timeout=clock.left_ms(10_000))
            if discover:
                for link in _links(page, result.origin):
                    if link not in visited and link not in queue and len(found) < limit:
                        queue.append(link)
                        found.append(link)
            _record(page, context, seen, set_by)
            if seen.name != "none" and page.locator(SETTINGS_OPENERS).count() == 0:
                seen.without_settings.append(without_query(page.url))
        if seen.name == "none" and seen.banner:
            seen.preticked = _preticked(page, clock)
    finally:
        context.close()


def _visit(page: Any, address: str, result: Scan, clock: _Clock) -> None:
    response = page.goto(address, wait_until="load", timeout=clock.left_ms(20_000))
    if origin_of(page.url) != result.origin:
        raise ScanStopped(f"{address} led to another site ({origin_of(page.url)}), which is not scanned")
    if response is not None and response.status >= 400:
        result.problems.append(f"{without_query(address)} answered {response.status}")
    page.wait_for_timeout(min(SETTLE_MS, clock.left_ms(SETTLE_MS)))


def _first_page(page: Any, seen: PassSeen, clock: _Clock) -> None:
    """The banner as a visitor first meets it, and the pass's own action on it."""
    banner = page.locator(BANNER)
    seen.banner = banner.count() > 0 and banner.first.is_visible()
    if seen.name == "none":
        if seen.banner:
            seen.axe = _axe(page, clock)
        for value in ("accept_all", "reject_all"):
            button = page.locator(f"{BANNER} button[value={value}]")
            if button.count():
                seen.buttons[value] = ButtonLook(**button.first.evaluate(_LOOK))
        return
    first = "reject_all" if seen.name == "reject" else "accept_all"
    seen.acted = _choose(page, f"{BANNER} button[value={first}]", clock)
    if seen.acted and seen.name == "withdraw":
        page.reload(wait_until="load", timeout=clock.left_ms(20_000))
        opener = page.locator(SETTINGS_OPENERS)
        if opener.count() == 0:
            seen.acted = False
            return
        opener.first.click(timeout=clock.left_ms(5_000))
        seen.acted = _choose(page, "form.vc-settings button[value=reject_all]", clock)


_LOOK = """b => { const s = getComputedStyle(b), r = b.getBoundingClientRect();
  return {width: r.width, height: r.height, weight: s.fontWeight, color: s.color,
          background: s.backgroundColor, font_size: s.fontSize}; }"""


def _choose(page: Any, selector: str, clock: _Clock) -> bool:
    button = page.locator(selector)
    try:
        button.first.wait_for(state="visible", timeout=clock.left_ms(5_000))
    except Exception:
        return False
    button.first.click(timeout=clock.left_ms(5_000))
    page.wait_for_load_state("load", timeout=clock.left_ms(20_000))
    page.wait_for_timeout(min(SETTLE_MS, clock.left_ms(SETTLE_MS)))
    return True


def _axe_source() -> str:
    """axe-core, as the axe-playwright-python package ships it ("" without it: not checked)."""
    try:
        import axe_playwright_python
    except ImportError:
        return ""
    path = Path(axe_playwright_python.__file__).parent / "axe.min.js"
    return path.read_text() if path.exists() else ""


def _axe(page: Any, clock: _Clock) -> list[dict[str, Any]]:
    """axe-core's violations inside the banner (WCAG 2.1 A and AA), one entry per rule."""
    source = _axe_source()
    if not source:
        return []
    page.evaluate(source)
    found = page.evaluate(
        """async () => (await axe.run(document.querySelector('#vc-banner'),
             {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'], resultTypes: ['violations']}))
           .violations.map(v => ({id: v.id, impact: v.impact || '', help: v.help, nodes: v.nodes.length}))"""
    )
    clock.left_ms(1)  # the time limit holds here too
    return list(found)


def _preticked(page: Any, clock: _Clock) -> list[str]:
    """The optional categories switched on in the settings before the visitor chose anything."""
    opener = page.locator(f"{BANNER} {SETTINGS_OPENERS}, {SETTINGS_OPENERS}")
    if opener.count() == 0:
        return []
    try:
        opener.first.click(timeout=clock.left_ms(5_000))
        page.locator("form.vc-settings").first.wait_for(state="visible", timeout=clock.left_ms(5_000))
    except Exception:
        return []
    boxes = page.locator("form.vc-settings input[type=checkbox]:checked:not([disabled])")
    return [str(boxes.nth(n).get_attribute("value")) for n in range(boxes.count())]


def _links(page: Any, origin: str) -> list[str]:
    hrefs = page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)")
    found = []
    for href in hrefs:
        address = urldefrag(urljoin(page.url, href))[0]
        if origin_of(address) == origin and address not in found:
            found.append(address)
    return found


def _record(page: Any, context: Any, seen: PassSeen, set_by: dict[str, str]) -> None:
    here = without_query(page.url)
    for cookie in context.cookies():
        if cookie["name"] in seen.cookies:
            continue
        if len(seen.cookies) >= MAX_COOKIES:
            seen.storage.setdefault(f"cookies: more than {MAX_COOKIES}, the rest not listed", here)
            break
        seen.cookies[cookie["name"]] = SeenCookie(
            name=cookie["name"],
            domain=cookie["domain"],
            path=cookie["path"],
            expires=float(cookie["expires"]),
            http_only=bool(cookie["httpOnly"]),
            secure=bool(cookie["secure"]),
            same_site=str(cookie.get("sameSite", "")),
            page=here,
            set_by=set_by.get(cookie["name"], f"a script on {here}"),
        )
    names = page.evaluate(_STORAGE)
    for kind, keys in names.items():
        for key in keys[:MAX_COOKIES]:
            seen.storage.setdefault(f"{kind}: {key}", here)


_STORAGE = """async () => {
  const found = {localStorage: Object.keys(localStorage), sessionStorage: Object.keys(sessionStorage), indexedDB: []};
  if (indexedDB.databases) { try { found.indexedDB = (await indexedDB.databases()).map(d => d.name); } catch (e) {} }
  return found; }"""
