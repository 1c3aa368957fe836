"""``vern retention plan`` shows what is due; ``vern retention run`` removes it."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from vern.audit.services import Actor
from vern.retention.engine import DEFAULT_BATCH_SIZE, MAX_BATCH_SIZE, MIN_BATCH_SIZE, SweepRefused
from vern.retention.selectors import active_holds, plan_rows
from vern.retention.services import retention_sweep


class Command(BaseCommand):
    help = "Enforce the declaration's retention rules. `plan` is a dry run; `run` removes what is due."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("plan", help="per rule: how many rows are due, the oldest, and how many are held")
        run = sub.add_parser("run", help="remove what is due, in batches; safe to stop and run again")
        run.add_argument(
            "--batch-size",
            type=int,
            help=(
                "rows per transaction; by default as many as keep each transaction under about 50 ms on SQLite "
                f"({MIN_BATCH_SIZE}-{MAX_BATCH_SIZE}), and {DEFAULT_BATCH_SIZE} on PostgreSQL"
            ),
        )

    def handle(self, *args: Any, action: str, batch_size: int | None = None, **options: Any) -> None:
        if action == "plan":
            self._plan()
            return
        if batch_size is not None and not 1 <= batch_size <= MAX_BATCH_SIZE:
            # Beyond it, a batch's keys would pass PostgreSQL's limit of 65,535 parameters.
            raise CommandError(f"--batch-size must be between 1 and {MAX_BATCH_SIZE}")
        try:
            run = retention_sweep(trigger="cli", actor=Actor.cli(), batch_size=batch_size)
        except SweepRefused as exc:
            raise CommandError(f"retention: nothing removed: {exc}") from None
        for label, removed in run.counts.items():
            self.stdout.write(f"{label:32} removed {removed}")
        self.stdout.write(f"retention run #{run.pk}: {sum(run.counts.values())} rows removed")

    def _plan(self) -> None:
        rows = plan_rows()
        if not rows:
            raise CommandError("retention: no declaration is published, so no rule is known")
        self.stdout.write(f"{'model':32} {'rule':20} {'keep':24} {'due':>8} {'held':>6} {'waiting':>8}  oldest due")
        for row in rows:
            keep = row.period or f"until: {row.until}"
            oldest = row.oldest.strftime("%Y-%m-%d %H:%M") if row.oldest else "-"
            self.stdout.write(
                f"{row.label:32} {row.rule_id:20} {keep[:24]:24} {row.due:>8} {row.held:>6} {row.waiting:>8}  {oldest}"
            )
        holds = active_holds().count()
        self.stdout.write(f"{holds} legal hold(s) in force; nothing is removed by `plan`.")
