"""A scan and its findings as text for people, or as JSON for a company's CI."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict

from django.utils.translation import gettext_noop

from vern.scanner.crawl import Scan
from vern.scanner.findings import Finding

TITLES = {
    "undeclared-cookie": gettext_noop("Cookie not in the cookie table"),
    "wrong-lifetime": gettext_noop("Cookie lifetime differs from the table"),
    "stored-before-consent": gettext_noop("Stored without consent"),
    "third-party-before-consent": gettext_noop("Request to another site without consent"),
    "kept-after-withdrawal": gettext_noop("Still there after withdrawal"),
    "no-banner": gettext_noop("No consent banner"),
    "unequal-buttons": gettext_noop("Accept and Reject are not equal"),
    "preticked": gettext_noop("Optional category switched on in advance"),
    "no-way-back": gettext_noop("No way back to the cookie settings"),
    "could-not-act": gettext_noop("The banner could not be used"),
}


def as_text(scan: Scan, found: list[Finding]) -> str:
    when = dt.datetime.fromtimestamp(scan.scanned_at, tz=dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    pages = max((len(seen.pages) for seen in scan.passes.values()), default=0)
    cookies = {name for seen in scan.passes.values() for name in seen.cookies}
    others = {r.url for seen in scan.passes.values() for r in seen.requests}
    lines = [
        f"vern scan {scan.start}  ({when})",
        f"{pages} page(s) in {len(scan.passes)} pass(es): {', '.join(scan.passes)}; "
        f"{len(cookies)} cookie(s); {len(others)} address(es) on other sites",
    ]
    lines += [f"PARTIAL: {problem}" for problem in scan.problems]
    if not found:
        lines.append("CLEAN: what the site does matches the declaration.")
        return "\n".join(lines) + "\n"
    lines.append(f"FAILED: {len(found)} finding(s)")
    for finding in found:
        source = f" (by {finding.source})" if finding.source else ""
        lines.append(
            f"- [{finding.pass_name}] {TITLES.get(finding.rule, finding.rule)}: {finding.subject} "
            f"{finding.detail}, on {finding.page}{source}"
        )
    return "\n".join(lines) + "\n"


def as_json(scan: Scan, found: list[Finding]) -> str:
    return json.dumps(
        {
            "start": scan.start,
            "scanned_at": dt.datetime.fromtimestamp(scan.scanned_at, tz=dt.UTC).isoformat(),
            "complete": scan.complete,
            "problems": scan.problems,
            "findings": [f.as_dict() for f in found],
            "passes": {
                name: {k: v for k, v in asdict(seen).items() if k != "shot"} for name, seen in scan.passes.items()
            },
        },
        indent=2,
        sort_keys=True,
    )
