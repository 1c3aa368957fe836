"""The outbox names every kind of mail vern can send in words, never by its code (issue 21, item 10)."""

from __future__ import annotations

from pathlib import Path

from django.apps import apps
from django.utils import translation

from vern.ops.selectors import MAIL_KINDS


def mail_kinds() -> set[str]:
    """Each folder ``templates/mail/<kind>/`` with a subject: the kinds ``mail_queue`` renders."""
    kinds = set()
    for config in apps.get_app_configs():
        for subject in (Path(config.path) / "templates" / "mail").glob("*/subject.txt"):
            kinds.add(subject.parent.name)
    return kinds


def test_every_kind_of_mail_has_a_name_in_the_outbox_in_both_languages():
    kinds = mail_kinds()
    assert "rights_confirm" in kinds and "staff_invitation" in kinds  # the templates are found at all
    assert kinds - set(MAIL_KINDS) == set(), "add these kinds of mail to MAIL_KINDS in vern/ops/selectors.py"
    for kind in kinds:
        with translation.override("nb"):
            norwegian = str(MAIL_KINDS[kind])
        with translation.override("en"):
            english = str(MAIL_KINDS[kind])
        assert norwegian != english, f"{kind}: {english!r} is not translated"
        assert "_" not in norwegian + english
