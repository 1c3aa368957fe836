from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from vern.jobs.worker import Worker


class Command(BaseCommand):
    help = "Run queued and periodic background jobs until stopped (SIGTERM finishes the current job)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--burst", action="store_true", help="exit when no job is due")
        parser.add_argument("--poll", type=float, default=None, help="seconds between looks at an empty queue")

    def handle(self, *args: Any, burst: bool, poll: float | None, **options: Any) -> None:
        worker = Worker(poll_seconds=poll or settings.VERN_WORKER_POLL_SECONDS, burst=burst)
        worker.install_signal_handlers()
        worker.run()
