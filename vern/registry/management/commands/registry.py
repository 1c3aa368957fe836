"""``vern registry``: which models hold personal data, how a person is found and erased in each."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.utils import translation

from vern.registry.entries import THIRD_PARTY, entries, exemptions, parts_of
from vern.registry.surface import declared


def _name(value: Any) -> str:
    """A function or chain as a reader finds it in the code: module and qualified name."""
    if hasattr(value, "name") and hasattr(value, "model"):
        return f"chain {value.name} ({value.model._meta.label})"
    return f"{getattr(value, '__module__', '?')}.{getattr(value, '__qualname__', repr(value))}"


class Command(BaseCommand):
    help = "Print the personal-data registry."

    def handle(self, *args: Any, **options: Any) -> None:
        # The listing is for operators and its labels are English; so are the grounds it quotes.
        with translation.override("en"):
            self._list()

    def _list(self) -> None:
        for entry in entries():
            found_by = ", ".join(
                f"{kind} ({', '.join(fields)}{', no index' if kind in entry.unindexed else ''})"
                for kind, fields in entry.identifiers.items()
            )
            erasure = entry.erasure + (f" {', '.join(entry.anonymise)}" if entry.anonymise else "")
            self.stdout.write(
                f"{entry.label}\n"
                f"  purpose {entry.purpose}, retention rule {entry.retention}, clock {entry.clock}\n"
                f"  found by {found_by}\n"
                + "".join(f"  {kind} has no index: {why}\n" for kind, why in entry.unindexed.items())
                + f"  erasure: {erasure}{' (' + entry.retain_reason + ')' if entry.retain_reason else ''}\n"
                f"  exported: {', '.join(entry.export)}"
                + (f"\n  legal bases: {', '.join(entry.bases)}" if entry.bases else "")
            )
            for part in parts_of(entry):
                self.stdout.write(f"  with {part.label} (through {part.parent_field}): {', '.join(part.export)}")
        self.stdout.write("\nNo personal data (or not covered by the declaration):")
        for exemption in exemptions():
            self.stdout.write(f"  {exemption.label}: {exemption.kind}: {exemption.reason}")
        for label, (kind, reason) in sorted(THIRD_PARTY.items()):
            self.stdout.write(f"  {label}: {kind}: {reason}")
        self.stdout.write("\nWhat each app tells the rest of vern (its surface):")
        for item in declared():
            self.stdout.write(f"  {item.app_label}")
            for member, value in item.surface.members():
                if member == "goal_events":  # event keys, not models
                    named = ", ".join(value)
                elif isinstance(value, dict):
                    named = ", ".join(f"{model._meta.label}: {_name(fn)}" for model, fn in value.items())
                elif isinstance(value, tuple):
                    named = ", ".join(_name(fn) for fn in value)
                else:
                    named = _name(value)
                self.stdout.write(f"    {member}: {named}")
