"""The mailbox's settings as an installation gives them: ``vern mailbox`` reads the real dovecot with
IMAP_URL, IMAP_PASSWORD_FILE, IMAP_CA_FILE and VERN_MAILBOX_FOLDER from its environment."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from vern.enquiries.models import Enquiry
from vern.enquiries.tests.test_mailbox import letter
from vern.testing import run_vern, vern_env

pytestmark = pytest.mark.django_db(transaction=True)


def test_vern_started_with_the_mailbox_settings_reads_the_mailbox_into_the_named_folder(
    published, imap_server, tmp_path
):
    password = tmp_path / "imap-password"
    password.write_text(imap_server.password + "\n")
    env = vern_env(
        VERN_DATA_DIR=str(tmp_path),
        IMAP_URL=imap_server.url,
        IMAP_PASSWORD_FILE=str(password),
        IMAP_CA_FILE=str(imap_server.ca_file),
        VERN_MAILBOX_FOLDER="Behandlet",
    )
    imap_server.deliver(letter()[0])
    done = run_vern("mailbox", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "new enquiries: 1," in done.stdout
    assert Enquiry.objects.get().channel == "email"
    assert imap_server.folder("INBOX") == [] and len(imap_server.folder("Behandlet")) == 1
    assert "kari.nordmann@example.no" not in done.stdout + done.stderr


def test_vern_started_with_a_short_skipped_period_deletes_older_skipped_mail_and_keeps_the_rest(
    published, imap_server, tmp_path
):
    password = tmp_path / "imap-password"
    password.write_text(imap_server.password + "\n")
    env = vern_env(
        VERN_DATA_DIR=str(tmp_path),
        IMAP_URL=imap_server.url,
        IMAP_PASSWORD_FILE=str(password),
        IMAP_CA_FILE=str(imap_server.ca_file),
        VERN_MAILBOX_SKIPPED_DAYS="3",
    )
    now = timezone.now()
    imap_server.deliver(letter(subject="old")[0], "vern-skipped", arrived=now - dt.timedelta(days=5))
    imap_server.deliver(letter(subject="young")[0], "vern-skipped", arrived=now - dt.timedelta(days=1))
    done = run_vern("mailbox", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "deleted from the skipped folder: 1" in done.stdout
    (kept,) = imap_server.folder("vern-skipped")
    assert b"Subject: young" in kept
