"""The search digests again, of folded words (case, accents, ø/o, å/aa, æ/ae) and with the words of
the email address: the digests of the old words can never match a search now (another purpose)."""

from __future__ import annotations

from typing import Any

from django.db import migrations


def rebuild(apps: Any, schema_editor: Any) -> None:
    from vern.enquiries.search import enquiry_digests

    enquiry_model = apps.get_model("enquiries", "Enquiry")
    term_model = apps.get_model("enquiries", "SearchTerm")
    for enquiry in enquiry_model.objects.only("pk", "name", "organisation", "email").iterator(chunk_size=500):
        term_model.objects.filter(enquiry_id=enquiry.pk).delete()
        term_model.objects.bulk_create(
            term_model(enquiry_id=enquiry.pk, digest=term) for term in sorted(enquiry_digests(enquiry))
        )


class Migration(migrations.Migration):
    dependencies = [("enquiries", "0003_inbox_state_owner_reply")]

    operations = [migrations.RunPython(rebuild, migrations.RunPython.noop, elidable=True)]
