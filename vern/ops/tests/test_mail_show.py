"""``vern mail show ID``: the whole of a mail the console backend printed masked, for someone with a shell."""

from __future__ import annotations

import pytest

from vern.mail import emails
from vern.mail.models import OutboxMessage
from vern.testing import run_vern

TOKEN = "Zk3v9QpLw2XbT7mN4sRc8yHdJ6fGaE1u"


@pytest.mark.django_db(transaction=True)
def test_vern_mail_show_prints_the_whole_mail_and_audits_it():
    from vern.audit.models import Entry

    message = emails.staff_password_reset(
        to="pia@example.com", language="en", name="Pia", link=f"http://127.0.0.1:8000/staff/password/{TOKEN}/"
    )
    shown = run_vern("mail", "show", str(message.pk))
    assert shown.returncode == 0, shown.stderr
    assert "To: pia@example.com" in shown.stdout and TOKEN in shown.stdout and "Pia" in shown.stdout
    entry = Entry.objects.get(action="mail.show")
    assert (entry.object_id, entry.actor_kind) == (str(message.pk), "cli")
    missing = run_vern("mail", "show", str(message.pk + 1000))
    assert missing.returncode != 0 and f"no mail #{message.pk + 1000}" in missing.stderr
    assert OutboxMessage.objects.count() == 1
