"""Mail in development (``EMAIL_URL=console://``): shown in the worker's output, not sent.

The output is a log, and a log may not hold a person's address or phone number:
the recipient is masked and addresses, numbers and IP addresses in the text are
redacted. Links (to set a password, say) are shown as they are.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Sequence
from typing import Any

from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend

from vern.lib.logs import redact
from vern.lib.normalise import mask_email

_lock = threading.Lock()


class ConsoleBackend(BaseEmailBackend):
    def __init__(self, *args: Any, stream: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.stream = stream or sys.stdout

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        with _lock:
            for message in email_messages:
                to = ", ".join(mask_email(address.lower()) for address in message.to)
                self.stream.write(
                    f"--- mail (not sent: EMAIL_URL=console://) to {to}\n"
                    f"Subject: {redact(str(message.subject))}\n\n{redact(str(message.body))}\n---\n"
                )
            self.stream.flush()
        return len(email_messages)
