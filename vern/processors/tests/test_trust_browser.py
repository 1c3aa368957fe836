"""In a real browser: the public page «Data processing at Kaukus» and the policy it is linked from read well
at 1280 and 390 px, in Bokmål and English, with no sideways scrolling, and axe finds nothing.

The register's staff pages are walked the same way by vern/tests/test_staff_pages_browser.py, which
fills them with the register ``vern.processors.testing.make_processors`` builds."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
AXE = "axe.run().then(r => r.violations.map(v => v.id + ' ' + v.nodes.map(n => n.target.join(' ')).join(', ')))"
WIDTHS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


def axe_script() -> str:
    import axe_playwright_python

    return (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text()


def test_the_trust_page_and_the_policy_read_well_at_both_widths_in_both_languages(browser_page, published):
    from vern.accounts.models import User
    from vern.processors.testing import make_processors

    make_processors(User.objects.create_user(email="pia@example.com", password=None, name="Pia"))
    page = browser_page
    failures = []
    for path, heading in (
        ("/privacy/processing/", "Databehandling hos Kaukus AS"),
        ("/en/privacy/processing/", "Data processing at Kaukus AS"),
        ("/en/privacy/", "Privacy Policy"),
    ):
        page.goto(page.base + path)
        assert heading in page.inner_text("h1")
        if "processing" in path:
            assert "Amazon Web Services" in page.inner_text("main")  # the sub-processor and its change
        for width, size in WIDTHS.items():
            page.set_viewport_size(size)
            if not page.evaluate("typeof axe !== 'undefined'"):
                page.evaluate(axe_script())
            violations = page.evaluate(AXE)
            overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            if violations or overflow > 0:
                failures.append((path, width, violations, overflow))
            screenshot(page, f"processing-{path.strip('/').replace('/', '-')}-{width}")
    page.goto(page.base + "/en/privacy/")
    page.click("text=Data processing in detail")
    assert page.url.endswith("/en/privacy/processing/")
    assert page.watch.console_errors == []
    assert not failures, failures
