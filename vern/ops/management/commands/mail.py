from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from vern.mail.models import OutboxMessage
from vern.ops.services import outbox_show_by_cli


class Command(BaseCommand):
    help = (
        "Read mail in the outbox. `vern mail show ID` prints one message whole (recipient, subject, text), "
        "e.g. the link in a mail that EMAIL_URL=console:// printed masked. Each reading is audited."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        show = sub.add_parser("show", help="print one outbox message whole (audited)")
        show.add_argument("id", type=int, help="the message's number, as the console output and the console show it")

    def handle(self, *args: Any, action: str, id: int, **options: Any) -> None:
        try:
            message = outbox_show_by_cli(message_id=id)
        except OutboxMessage.DoesNotExist:
            raise CommandError(
                f"there is no mail #{id} in the outbox (sent mail is kept as the declaration says)"
            ) from None
        if not message.to_address:
            raise CommandError(
                f"mail #{id} was sent and its content deleted, as for every answer to an erasure request"
            )
        self.stdout.write(
            f"Outbox #{message.pk}: {message.kind}, in {message.language}, {message.status}\n"
            f"To: {message.to_address}\nSubject: {message.subject}\n\n{message.body_text}"
        )
