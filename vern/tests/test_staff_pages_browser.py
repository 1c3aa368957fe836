"""Every staff page, in a real browser, at 390 and 1280 px, in Bokmål and English (issue 21, item 8 and 10).

The list of pages comes from the URLconf: every route under /staff/ that answers GET with a page.
Path parameters are filled with real objects made here (an enquiry, rights requests in each state,
a staff member, a job, an outbox message, a hold, a passkey...); a new staff route whose parameters
this test cannot fill fails it, so no page is left out without anyone noticing.

On each page: no sideways scrolling, axe finds nothing, and the text a staff member reads has no
model label (``audit.Entry``), no code (``in_progress``), no "None", and on Norwegian pages none
of a few English words that only an untranslated message would put there.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from conftest import screenshot
from vern.accounts.testing import staff_device, staff_routes, totp_code
from vern.processors.testing import make_processors

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
WIDTHS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 800}}
PASSWORD = "correct horse battery staple 42"

# The steps of signing in: pages only a visitor who is not (yet) signed in sees.
BEFORE_SIGN_IN = {"accounts:login", "accounts:password_forgot", "accounts:password_set"}
SIGNING_IN = {"accounts:enrol", "accounts:verify"}
# GET routes that answer with a file, not a page, and the type of file.
DOWNLOADS = {
    "analytics_staff:export": "text/csv",
    "scanner_staff:shot": "image/jpeg",
    "breaches_staff:export_csv": "text/csv",
    "breaches_staff:form_csv": "text/csv",
    "risks_staff:export_csv": "text/csv",
    "processors_staff:export_csv": "text/csv",
    "processors_staff:export_json": "application/json",
    "processors_staff:agreement": "application/pdf",
    "enquiries_staff:attachment": "application/pdf",
}
# Pages seen for every object made below; the other routes for the first object of their kind.
EVERY_OBJECT = {
    "accounts:person",
    "enquiries_staff:detail",
    "rights_staff:detail",
    "declaration_staff:edit",
    "processors_staff:processor",
}

# Words of English that a Norwegian staff page only shows when a message is not translated.
# Each is checked as a whole word, case-sensitive; none is also a Norwegian word.
ENGLISH = (
    "the",
    "and",
    "done",
    "Done",
    "None",
    "Save",
    "Delete",
    "Cancel",
    "Search",
    "request",
    "Request",
    "requests",
    "enquiry",
    "Enquiry",
    "enquiries",
    "Enquiries",
    "pending",
    "failed",
    "Failed",
    "queued",
    "Staff",
    "Privacy",
    "Retention",
    "Statistics",
    "Access",
    "access",
    "erasure",
    "Erasure",
    "Password",
    "password",
    "Log out",
    "Show",
    "Previous",
    "Next",
    "detail",
    "yes",
    "Yes",
)
APPS = "accounts|audit|enquiries|rights|consent|declaration|retention|analytics|mail|jobs|ops"
MODEL_LABEL = re.compile(rf"\b(?:{APPS})\.[A-Z]\w+")
CODE = re.compile(r"\b[a-z]+(?:_[a-z]+)+\b")  # in_progress, staff_invitation, awaiting_confirmation
NOT_TEXT = re.compile(r"\S+@\S+|https?://\S+|/[\w/.-]+")  # addresses, links and paths are data, not wording


# The outermost elements that reach past the right edge: what to fix when a page is too wide.
WIDEST = """[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > innerWidth + 1
  && !(e.parentElement && e.parentElement.getBoundingClientRect().right > innerWidth + 1))
  .slice(0, 3).map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : '')).join(', ')"""


def axe_script() -> str:
    import axe_playwright_python

    return (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text()


@dataclass
class World:
    fills: dict[str, list[dict[str, Any]]]
    pia: Any
    ed: Any


def make_world(default_source: str, picture: bytes) -> World:
    """A company a few weeks in: a published policy, staff, enquiries, requests in every state, jobs and mail."""
    from django.utils import timezone
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    from vern.accounts.models import Passkey, PendingRoleGrant, SignIn
    from vern.accounts.services import staff_create, staff_set_roles
    from vern.analytics.reading_services import goal_create, report_subscribe, stats_token_create, stats_token_revoke
    from vern.audit.services import Actor
    from vern.declaration.services import declaration_publish, draft_start
    from vern.declaration.staff_views import PARTS
    from vern.enquiries.services import Intake, enquiry_log_contact, enquiry_register
    from vern.jobs.models import Job
    from vern.mail.models import OutboxMessage
    from vern.newsletter.services import mailing_create
    from vern.retention.services import hold_place
    from vern.rights.services import intake, workflow
    from vern.scanner.models import ScanRun, ScanShot

    # Two versions, the second the shipped file (the draft), so the policy page has a history.
    earlier = default_source.replace("Vi svarer normalt innen 30 dager.", "Vi svarer normalt innen 14 dager.")
    declaration_publish(source=earlier, actor=Actor.cli())
    declaration_publish(source=default_source, actor=Actor.cli(), note="Svarfrist som loven gir")
    everything = ["admin", "privacy_officer", "sales"]
    pia = staff_create(
        email="pia@example.com", name="Pia Personvern", roles=everything, password=PASSWORD, actor=Actor.cli()
    )
    ed = staff_create(
        email="ed@example.com", name="Ed English", roles=everything, language="en", password=PASSWORD, actor=Actor.cli()
    )
    sam = staff_create(email="sam@example.com", name="Sam Salg", roles=["sales"], actor=Actor.cli())
    staff_set_roles(user=sam, roles=["sales", "privacy_officer"], actor=Actor.staff(pia))
    grant = PendingRoleGrant.objects.get(user=sam)
    sign_in = SignIn.objects.create(user=pia, ip="127.0.0.0", browser="Firefox", method=SignIn.Method.TOTP)
    passkey = Passkey.objects.create(
        user=sam, name="Laptop", confirmed=True, credential_id=b"x", credential_key="ab" * 32, public_key=b""
    )

    now = timezone.now()
    enquiries = []
    for kind, name in (("contact", "Kari Ødegård"), ("demo", "Ola Nordmann")):
        enquiry = enquiry_register(
            staff=pia,
            kind=kind,
            channel="email",
            received_at=now,
            intake=Intake(
                name=name,
                email=f"{kind}@example.no",
                phone="+4791234567",
                organisation="Bergen kommune",
                message="Vi vil gjerne vite mer om tjenesten.",
                preferred_date=timezone.localdate() + dt.timedelta(days=7) if kind == "demo" else None,
            ),
            language="nb",
            acknowledge=True,
        )
        enquiries.append(enquiry)
    enquiry_log_contact(staff=pia, enquiry=enquiries[0], kind="phone", happened_at=now, note="Ringte tilbake.")
    # A mailed attachment of the first enquiry (downloaded as a file, not seen as a page).
    from vern.enquiries.models import MailboxAttachment, MailboxMessage

    mail = MailboxMessage.objects.create(
        enquiry=enquiries[0], key="world-mail", message_id="<world@example.no>", subject="Innsyn", text="Innsyn"
    )
    attachment = MailboxAttachment.objects.create(
        enquiry=enquiries[0],
        message=mail,
        filename="tilbud.pdf",
        content_type="application/pdf",
        size=4,
        content="JVBERg==",
    )

    lapsed = intake.request_submit(rights=["erasure"], email="lapsed@example.no", language="nb")
    intake.requests_lapse(now=now + dt.timedelta(days=60))
    waiting = intake.request_submit(rights=["access", "rectification"], email="wait@example.no", language="en")

    def registered(email: str, rights: list[str]) -> Any:
        return intake.request_register(
            staff=pia, rights=rights, channel="email", received_at=now, email=email, identity_checked=True
        )

    confirmed = registered("confirmed@example.no", ["objection", "restriction"])
    started = workflow.request_start(request=registered("started@example.no", ["erasure", "rectification"]), staff=pia)
    workflow.request_note(request=started, staff=pia, note="Sjekker CRM.")
    extended = workflow.request_extend(
        request=registered("extended@example.no", ["portability", "rectification"]),
        staff=pia,
        until=timezone.localdate() + dt.timedelta(days=60),
        reason="Mange forespørsler denne måneden, vi trenger mer tid.",
    )
    answered = workflow.request_answer(request=registered("answered@example.no", ["objection"]), staff=pia)
    refused = workflow.request_refuse(
        request=registered("refused@example.no", ["erasure"]),
        staff=pia,
        ground="excessive",
        justification="Den samme forespørselen kom tre ganger denne uken.",
    )
    access = registered("access@example.no", ["access"])  # answered by itself with a package
    requests = [started, lapsed, waiting, confirmed, extended, answered, refused, access]

    job = Job.objects.create(name="rights.reminders", status=Job.Status.FAILED, attempts=3, last_error="Timeout")
    message = OutboxMessage.objects.filter(kind="rights_confirm").first()
    assert message is not None
    OutboxMessage.objects.filter(pk=message.pk).update(status=OutboxMessage.Status.FAILED, last_error="421 busy")
    hold = hold_place(
        staff=pia, reason="Tvist om faktura", ends_at=now + dt.timedelta(days=90), email="kari@example.no"
    )

    draft_start(user=pia)  # the editor's pages show a draft
    mailing = mailing_create(
        staff=pia, topic="news", subject_nb="Nytt fra oss", subject_en="News from us", body_nb="Hei!", body_en="Hello!"
    )
    scan = ScanRun.objects.create(
        url="https://kaukus.no/",
        trigger=ScanRun.Trigger.STAFF,
        status=ScanRun.Status.CLEAN,
        finished_at=now,
        policy_version=2,
        counts={"pages": 3, "cookies": 1, "other_sites": 0},
        digest="ab" * 32,
    )
    ScanShot.objects.create(run=scan, pass_name="none", image=picture)
    processors = make_processors(pia)  # vern/processors/testing.py

    from vern.breaches.tests.world import security_registers

    breach, risk = security_registers(pia, now)

    uid = urlsafe_base64_encode(force_bytes(sam.pk))
    from django.contrib.auth.tokens import default_token_generator

    # What each kind of path parameter is filled with, per namespace.
    by_parameter: dict[tuple[str, str], list[Any]] = {
        ("accounts", "pk"): [sam.pk, pia.pk],
        ("ops", "pk"): [job.pk],
        ("enquiries_staff", "pk"): [e.pk for e in enquiries],
        ("enquiries_staff", "attachment_pk"): [attachment.pk],
        ("retention_staff", "pk"): [hold.pk],
        ("rights_staff", "pk"): [r.pk for r in requests],
        ("rights_staff", "kind"): ["access"],
        ("scanner_staff", "pk"): [scan.pk],
        ("scanner_staff", "pass_name"): ["none"],
        ("declaration_staff", "part"): [key for key, _title in PARTS],
        ("newsletter_staff", "pk"): [mailing.pk],
        ("breaches_staff", "pk"): [breach.pk],
        ("risks_staff", "pk"): [risk.pk],
        ("processors_staff", "pk"): [p.pk for p in processors],
    }
    # Statistics settings: a goal of each kind, a token (one revoked), the weekly report asked for.
    goal_create(actor=pia, name="Demo bestilt", kind="server", match="demo_booked")
    goal_create(actor=pia, name="Så prissiden", kind="page", match="/priser/*")
    goal_create(actor=pia, name="Klikk på Bestill demo", kind="event", match="demo-booked")
    stats_token_create(actor=pia, name="Salgsregneark")
    stats_token_revoke(actor=pia, token=stats_token_create(actor=pia, name="Gammelt regneark")[0])
    report_subscribe(actor=pia, on=True)
    # Routes whose parameter is another kind of object than their namespace's usual one.
    by_route: dict[str, list[dict[str, Any]]] = {
        "accounts:grant_decide": [{"pk": grant.pk}],
        "accounts:session_end": [{"pk": sign_in.pk}],
        "accounts:passkey_remove": [{"pk": passkey.pk}],
        "ops:outbox_requeue": [{"pk": message.pk}],
        "accounts:password_set": [{"uidb64": uid, "token": default_token_generator.make_token(sam)}],
    }
    fills: dict[str, list[dict[str, Any]]] = {}
    unfillable = []
    for name, (route, _view) in staff_routes().items():
        parameters = re.findall(r"<(?:\w+:)?(\w+)>", route)
        if not parameters:
            fills[name] = [{}]
        elif name in by_route:
            fills[name] = by_route[name]
        elif all((name.split(":")[0], p) in by_parameter for p in parameters):
            values = [by_parameter[(name.split(":")[0], p)] for p in parameters]
            # A detail page once for every object (each request's state), its forms for the first object.
            firsts = values[0] if name in EVERY_OBJECT else values[0][:1]
            others = {p: vs[0] for p, vs in zip(parameters[1:], values[1:], strict=True)}
            fills[name] = [{parameters[0]: v, **others} for v in firsts]
        else:
            unfillable.append(f"{name} ({route})")
    assert not unfillable, f"staff routes this test cannot fill; add their objects to make_world: {unfillable}"
    return World(fills=fills, pia=pia, ed=ed)


def staff_pages(world: World) -> tuple[list[str], list[str]]:
    """The paths of every staff route that answers GET with an HTML page, signed in with every role,
    split into the pages seen signed in and those seen before signing in."""
    from django.test import Client
    from django.urls import reverse

    from vern.accounts.testing import staff_login

    client = Client()
    staff_login(client, world.pia)
    signed_in, before = [], []
    problems = []
    for name, kwargs_list in sorted(world.fills.items()):
        for kwargs in kwargs_list:
            path = reverse(name, kwargs=kwargs)
            if name in BEFORE_SIGN_IN:
                before.append(path)
                continue
            if name in SIGNING_IN:
                continue  # seen on the way in, below
            response = client.get(path)
            content_type = response.get("Content-Type", "")
            if response.status_code == 405:
                break  # a form's action: POST only, whatever object it is for
            if response.status_code == 200 and content_type.startswith("text/html"):
                signed_in.append(path)
            elif response.status_code == 200 and name in DOWNLOADS:
                assert content_type.startswith(DOWNLOADS[name]), (name, content_type)
            elif response.status_code in (200, 400) and content_type.startswith("application/json"):
                continue  # the passkey ceremonies' options, fetched by script
            else:
                problems.append((name, path, response.status_code, content_type))
    assert not problems, f"staff GET routes that are neither a page nor a known download: {problems}"
    world.pia.totpdevice_set.all().delete()  # she sets up her authenticator app in the browser, below
    return signed_in, before


# Identifiers shown as code (a cookie's name, a purpose's id) are data, not wording.
WITHOUT_CODE = """() => { const codes = [...document.querySelectorAll('code, kbd, samp')];
  codes.forEach(e => { e.dataset.was = e.style.visibility; e.style.visibility = 'hidden'; });
  const text = document.body.innerText;
  codes.forEach(e => { e.style.visibility = e.dataset.was; delete e.dataset.was; }); return text; }"""


def visible_text(page) -> str:
    return NOT_TEXT.sub(" ", page.evaluate(WITHOUT_CODE))


def wording_problems(text: str, language: str) -> list[str]:
    found = [f"model label {m}" for m in MODEL_LABEL.findall(text)]
    found += [f"code {m}" for m in CODE.findall(text)]
    if re.search(r"\bNone\b(?!\s+[a-z])", text):  # Python's None, not "None has been made yet"
        found.append("None")
    if language == "nb":
        found += [f"English {w!r}" for w in ENGLISH if re.search(rf"(?<![\w-]){re.escape(w)}(?![\w-])", text)]
    return found


def check(page, path: str, language: str, failures: list[str]) -> None:
    response = page.goto(page.base + path)
    assert response is not None
    if response.status != 200:
        failures.append(f"{path}: HTTP {response.status}")
        return
    problems = wording_problems(visible_text(page), language)
    for width, size in WIDTHS.items():
        page.set_viewport_size(size)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        if overflow > 0:
            problems.append(f"{width}: {overflow} px too wide, by {page.evaluate(WIDEST)}")
        if not page.evaluate("typeof axe !== 'undefined'"):
            page.evaluate(axe_script())
        violations = page.evaluate(
            "axe.run().then(r => r.violations.map(v => v.id + ' ' + v.nodes.map(n => n.target.join(' ')).join(', ')))"
        )
        problems += [f"{width}: axe {v}" for v in violations]
        name = re.sub(r"[^a-z0-9]+", "-", path.strip("/")) or "staff"
        screenshot(page, f"{language}-{name}-{width}")
    failures += [f"{path}: {p}" for p in problems]


def sign_in(page, world_user: Any, language: str, check_step: Callable[[str], None]) -> None:
    """Password, then the authenticator app: set up (a page), then the code (a page); both are checked."""
    prefix = "/en" if language == "en" else ""
    page.context.clear_cookies()
    page.goto(page.base + prefix + "/staff/login/")
    page.fill("input[name=email]", world_user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url("**/second-factor/setup/**")
    check_step(page.url.removeprefix(page.base))
    device = staff_device(world_user)
    page.goto(page.url.replace("/second-factor/setup/", "/second-factor/"))
    check_step(page.url.removeprefix(page.base))
    page.fill("input[name=code]", totp_code(device))
    page.click("form[action*='second-factor'] button[type=submit]")
    page.wait_for_url(lambda url: "/second-factor/" not in url)


def test_every_staff_page_fits_a_phone_and_axe_finds_nothing_in_both_languages(browser_page, default_source):
    page = browser_page
    page.goto("about:blank")
    world = make_world(default_source, picture=page.screenshot(type="jpeg"))  # a scan's picture of a page
    pages, before = staff_pages(world)
    assert len(pages) >= 25, pages  # the console, people, jobs, outbox, audit, policy, requests...
    failures: list[str] = []
    for language, user in (("nb", world.pia), ("en", world.ed)):
        prefix = "/en" if language == "en" else ""
        page.context.clear_cookies()
        for path in before:
            check(page, prefix + path, language, failures)

        def check_step(path: str, language: str = language) -> None:
            check(page, path, language, failures)

        sign_in(page, user, language, check_step)
        for path in pages:
            check(page, prefix + path, language, failures)
    assert page.watch.console_errors == []
    assert not failures, "\n".join(failures)
