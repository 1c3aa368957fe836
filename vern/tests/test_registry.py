"""The registry knows every model with personal data; the code cannot drift from the declaration."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import models
from django.test.utils import isolate_apps

from vern.audit.events import AuditEvent
from vern.audit.models import Entry as AuditEntry
from vern.audit.services import Actor, audit_record
from vern.lib.fields import EncryptedTextField
from vern.lib.keys import email_index, phone_index
from vern.mail import emails
from vern.mail.models import OutboxMessage
from vern.registry.checks import check_models
from vern.registry.entries import entries, exemptions, vern_models
from vern.registry.selectors import records_of


@isolate_apps("vern.site")
def test_the_system_check_fails_when_a_model_with_personal_data_is_left_unregistered():
    class Signup(models.Model):
        email = models.EmailField()
        full_name = models.CharField(max_length=100)

        class Meta:
            app_label = "site"

    errors = check_models([Signup])
    assert [error.id for error in errors] == ["vern.registry.E001"]
    assert "site.Signup does not say whether it holds personal data" in errors[0].msg
    assert "email, full_name" in errors[0].msg


@isolate_apps("vern.site")
def test_a_registered_model_must_be_findable_through_indexed_identifiers():
    class Lead(models.Model):
        email_index = models.CharField(max_length=64)  # no index
        note = EncryptedTextField()
        created_at = models.DateTimeField()

        class Meta:
            app_label = "site"

        class Privacy:
            purpose = "enquiries"
            retention = "enquiries"
            identifiers = {"email": "email_index", "fax": "note"}
            clock = "touched_at"
            erasure = "shred"
            export = ("note", "colour")

    messages = [error.msg for error in check_models([Lead])]
    assert (
        "site.Lead: identifier field 'email_index' has no index, so finding a person would scan the table" in messages
    )
    assert "site.Lead: identifier kind 'fax' is not one of email, phone, consent_id, ip" in messages
    assert "site.Lead: clock field 'touched_at' does not exist" in messages
    assert "site.Lead: erasure 'shred' is not one of delete, anonymise, retain" in messages
    assert "site.Lead: field 'colour' named in Privacy does not exist" in messages


@isolate_apps("vern.site")
def test_a_privacy_class_cannot_be_inherited_misspelt_or_used_to_hide_personal_data():
    class Base(models.Model):
        class Meta:
            abstract = True
            app_label = "site"

        class Privacy:
            not_personal = "Settings only."

    class Signup(Base):
        email = models.EmailField()

        class Meta:
            app_label = "site"

    class Setting(models.Model):
        name = models.CharField(max_length=20)
        phone = models.CharField(max_length=20)

        class Meta:
            app_label = "site"

        class Privacy:
            not_personal = "Configuration."
            not_personal_fields = ("name",)

    class Visit(models.Model):
        ip = models.CharField(max_length=40)
        seen_at = models.DateTimeField(null=True)

        class Meta:
            app_label = "site"
            indexes = [models.Index(fields=["ip"], name="visit_ip_recent", condition=models.Q(seen_at__isnull=False))]

        class Privacy:
            purpose = "operations"
            retention = "technical_logs"
            identifiers = {"ip": "ip"}
            clock = "seen_at"
            erasure = "delete"
            exports = ("ip",)

    errors = {error.msg for error in check_models([Signup, Setting, Visit])}
    assert any(msg.startswith("site.Signup does not say whether it holds personal data") for msg in errors)
    assert (
        "site.Setting: says not_personal but has phone; list them in Privacy.not_personal_fields "
        "if they hold no personal data" in errors
    )
    assert "site.Visit: Privacy.exports is not a known setting" in errors
    assert "site.Visit: identifier field 'ip' has no index, so finding a person would scan the table" in errors
    assert "site.Visit: clock field 'seen_at' may be empty, and a row without a start would never expire" in errors


def test_models_of_other_apps_must_be_accounted_for_too():
    from django.contrib.sessions.models import Session

    from vern.registry.checks import check_other_models

    assert check_other_models([Session]) == []

    class Unlisted(models.Model):
        class Meta:
            app_label = "sessions"

    errors = check_other_models([Unlisted])
    assert [e.id for e in errors] == ["vern.registry.E003"]


def test_every_vern_model_is_accounted_for_and_the_check_passes():
    assert check_models(vern_models()) == []
    labels = {entry.label for entry in entries()}
    assert {"mail.OutboxMessage", "audit.Entry"} <= labels
    exempt = {exemption.label: exemption.kind for exemption in exemptions()}
    assert exempt["accounts.User"] == "staff_data" and exempt["jobs.Job"] == "not_personal"


@pytest.mark.django_db
def test_a_persons_records_are_found_in_every_registered_model_by_identifier():
    emails.staff_password_reset(to="ola@example.no", language="nb", name="Ola", link="https://x.test/a/")
    emails.staff_password_reset(to="kari@example.no", language="nb", name="Kari", link="https://x.test/b/")
    audit_record(action=AuditEvent.ENQUIRY_VIEWED, actor=Actor.system(), subject_key=email_index("ola@example.no"))
    audit_record(action=AuditEvent.ENQUIRY_VIEWED, actor=Actor.system(), subject_key=phone_index("+47 912 34 567"))
    found = {f.entry.label: list(f.records) for f in records_of(email="OLA@example.no", phone="91234567")}
    assert [getattr(m, "to_address") for m in found["mail.OutboxMessage"]] == ["ola@example.no"]  # noqa: B009
    assert len(found["audit.Entry"]) == 2
    assert all(isinstance(row, AuditEntry) for row in found["audit.Entry"])
    nobody = {f.entry.label: list(f.records) for f in records_of(email="nobody@example.no")}
    assert nobody["mail.OutboxMessage"] == [] and nobody["audit.Entry"] == []
    assert OutboxMessage.objects.count() == 2


@pytest.mark.django_db
def test_finding_a_person_uses_an_index_in_every_model(django_assert_num_queries):
    from django.db import connection

    found = records_of(email="ola@example.no", phone="91234567")
    with django_assert_num_queries(len(found)):
        for item in found:
            list(item.records)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # tiny test tables: make the planner show what it can use
            cursor.execute("SET LOCAL enable_seqscan = off")
    for item in found:
        plan = item.records.explain()
        assert "INDEX" in plan.upper() or "Index" in plan, f"{item.entry.label} scans the table:\n{plan}"


def test_vern_registry_prints_how_each_model_is_found_and_erased(capsys):
    call_command("registry")
    out = capsys.readouterr().out
    assert "mail.OutboxMessage\n  purpose operations, retention rule mail_log, clock created_at" in out
    assert "sessions.Session: staff_data" in out
    assert "found by email (to_index, about_index)" in out
    # An identifier searched without an index says so, and why.
    assert (
        "analytics.LogEvent\n  purpose operations, retention rule technical_logs, clock at\n"
        "  found by ip (ip, no index)\n  ip has no index: A shortened IP names a network"
    ) in out
    assert "erasure: retain (Art. 17(3)(b) and (e)" in out
    # Each app's surface is listed under the models, with the functions by name.
    assert "  enquiries\n    change_recipients: vern.enquiries.selectors.change_recipients\n" in out
    assert "    console_tiles: vern.enquiries.selectors.console_tiles\n" in out
    assert "  keys\n    index_forms: vern.keys.selectors.every_form\n" in out
    assert "    due: enquiries.Enquiry: vern.enquiries.selectors.due_for_deletion\n" in out
    assert "accounts.User: staff_data" in out


@isolate_apps("vern.site")
def test_a_part_must_hang_on_a_registered_model_and_go_when_it_goes():
    class Lead(models.Model):
        email_index = models.CharField(max_length=64, db_index=True)
        created_at = models.DateTimeField()

        class Meta:
            app_label = "site"

        class Privacy:
            purpose = "enquiries"
            retention = "enquiries"
            identifiers = {"email": "email_index"}
            clock = "created_at"
            erasure = "delete"
            bases = ("f", "z")

    class Unregistered(models.Model):
        class Meta:
            app_label = "site"

    class Note(models.Model):
        lead = models.ForeignKey(Lead, on_delete=models.PROTECT)
        other = models.ForeignKey(Unregistered, on_delete=models.CASCADE)
        text = EncryptedTextField()

        class Meta:
            app_label = "site"

        class Privacy:
            part_of = "lead"
            export = ("text", "colour")
            clock = "created_at"

    class Stray(models.Model):
        other = models.ForeignKey(Unregistered, on_delete=models.CASCADE)

        class Meta:
            app_label = "site"

        class Privacy:
            part_of = "other"

    messages = [error.msg for error in check_models([Lead, Note, Stray])]
    assert "site.Lead: basis 'z' is not one of Art. 6(1) a-f" in messages
    assert "site.Note: part_of field 'lead' must cascade, so that erasing the parent erases this" in messages
    assert "site.Note: field 'colour' named in Privacy does not exist" in messages
    assert "site.Note: Privacy.clock is not a known setting for a part" in messages
    assert "site.Stray: part_of points to site.Unregistered, which is not a registered model" in messages


@isolate_apps("vern.site")
def test_an_identifier_without_an_index_must_say_why_it_is_searched_by_a_scan():
    class Visit(models.Model):
        ip = models.CharField(max_length=40)
        seen_at = models.DateTimeField()

        class Meta:
            abstract = True
            app_label = "site"

    class VisitPrivacy:
        purpose = "operations"
        retention = "technical_logs"
        identifiers = {"ip": "ip"}
        clock = "seen_at"
        erasure = "delete"

    class ScannedVisit(Visit):
        class Privacy(VisitPrivacy):
            unindexed = {"ip": "A network, not a person; a month of rows at most."}

    class TerseVisit(Visit):
        class Privacy(VisitPrivacy):
            unindexed = {"ip": "no"}

    class StrayVisit(Visit):
        class Privacy(VisitPrivacy):
            unindexed = {"email": "There is no email here at all, so this is wrong."}

    errors = {error.msg for error in check_models([ScannedVisit, TerseVisit, StrayVisit])}
    assert not any(msg.startswith("site.ScannedVisit") for msg in errors)
    assert "site.TerseVisit: Privacy.unindexed must say why 'ip' is found by a scan of the table" in errors
    assert "site.StrayVisit: Privacy.unindexed names 'email', which is not one of its identifiers" in errors
    assert "site.StrayVisit: identifier field 'ip' has no index, so finding a person would scan the table" in errors


# ------------------------------------------------------------------ each app's surface


def test_every_app_declares_what_it_tells_the_rest_of_vern_in_one_surface_and_the_check_passes():
    from vern.consent.models import ConsentEvent
    from vern.enquiries.models import Enquiry
    from vern.registry.checks import check_surfaces
    from vern.registry.surface import declared

    by_app = {item.app_label: item.surface for item in declared()}
    assert {"audit", "consent", "enquiries", "analytics", "retention", "rights"} <= set(by_app)
    assert check_surfaces(declared()) == []
    # The functions the registry calls come from the surface, not from dotted strings.
    enquiry = next(entry for entry in entries() if entry.model is Enquiry)
    assert enquiry.due is by_app["enquiries"].due[Enquiry]
    assert enquiry.rectify is by_app["enquiries"].rectify[Enquiry]
    assert [chain.model for chain in by_app["consent"].chains] == [ConsentEvent]


def test_the_registry_is_read_once_per_process():
    first, second = entries(), entries()
    assert first == second and all(a is b for a, b in zip(first, second, strict=True))


def test_a_surface_that_does_not_fit_its_app_is_refused_at_start_up():
    from vern.audit.models import Entry as AuditEntry
    from vern.enquiries.models import Enquiry
    from vern.registry.checks import check_surfaces
    from vern.registry.surface import Declared, Surface

    def two(cookies: object, extra: object) -> None:
        return None

    def judge(category: str, cookies: object, gpc: bool) -> None:
        return None

    # mypy refuses the misfit too; the check catches it where types are not checked.
    wrong = Surface(
        consent_id_readers=(two,),  # type: ignore[arg-type]
        due={Enquiry: lambda declaration, now: models.Q()},
        rectify={AuditEntry: lambda row, field, value: None},
        cookie_consent=judge,
    )
    errors = check_surfaces([Declared("enquiries", wrong), Declared("consent", Surface(cookie_consent=judge))])
    messages = [error.msg for error in errors]
    assert {error.id for error in errors} == {"vern.registry.E004", "vern.registry.E005"}
    assert any("consent_id_readers" in msg and "does not take 1 argument" in msg for msg in messages)
    assert "the surface of app 'enquiries': rectify names audit.Entry, a model of another app" in messages
    assert "apps enquiries, consent each give cookie_consent; one app decides what a cookie choice allows" in messages
    assert not any("due of enquiries.Enquiry" in msg for msg in messages)  # that one fits


def test_one_app_gives_the_index_forms_and_it_takes_no_argument() -> None:
    from vern.registry.checks import check_surfaces
    from vern.registry.surface import Declared, Surface

    def forms() -> None:
        return None

    def misfit(keys: object) -> None:
        return None

    errors = check_surfaces(
        [Declared("keys", Surface(index_forms=forms)), Declared("rights", Surface(index_forms=misfit))]  # type: ignore[arg-type]
    )
    messages = [error.msg for error in errors]
    assert {error.id for error in errors} == {"vern.registry.E004", "vern.registry.E006"}
    assert any("index_forms" in msg and "does not take 0 argument" in msg for msg in messages)
    assert "apps keys, rights each give index_forms; one app knows the index keys" in messages
    assert check_surfaces([Declared("keys", Surface(index_forms=forms))]) == []


@isolate_apps("vern.site")
def test_a_privacy_class_that_still_names_a_function_by_string_is_told_where_it_goes():
    class Lead(models.Model):
        email_index = models.CharField(max_length=64, db_index=True)
        created_at = models.DateTimeField()

        class Meta:
            app_label = "site"

        class Privacy:
            purpose = "enquiries"
            retention = "enquiries"
            identifiers = {"email": "email_index"}
            clock = "created_at"
            erasure = "delete"
            due = "vern.enquiries.selectors.due_for_deletion"

    messages = [error.msg for error in check_models([Lead])]
    assert "site.Lead: Privacy.due is not a known setting; give the function in the app's Surface.due" in messages
