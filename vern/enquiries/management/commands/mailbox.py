from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from vern.enquiries import mailbox


class Command(BaseCommand):
    help = (
        "Read the support mailbox now (what the worker does every five minutes) and delete the mail "
        "of deleted enquiries from it; prints what was taken, in counts."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        if not mailbox.configured():
            raise CommandError("no mailbox is configured: set IMAP_URL and IMAP_PASSWORD_FILE (docs/mailbox.md)")
        try:
            report = mailbox.mailbox_fetch()
            deleted = mailbox.mailbox_delete_pending()
        except mailbox.MailboxError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"new enquiries: {report.taken}, replies to kept enquiries: {report.joined}, "
            f"bounces: {report.bounces}, not enquiries: {report.skipped}, deleted from the mailbox: {deleted}, "
            f"deleted from the skipped folder: {report.pruned}"
        )
