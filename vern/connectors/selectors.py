"""What the connectors page and the console show: each connector's state, read without reaching it."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse
from django.utils.translation import gettext as _

from vern.accounts.models import User
from vern.accounts.roles import Capability
from vern.connectors.config import declared, is_configured
from vern.connectors.errors import Described, describe
from vern.connectors.models import Correction, Health, ManualTask, WebhookErasure
from vern.declaration.schema import Connector
from vern.registry.surface import Tile


@dataclass(frozen=True)
class State:
    connector: Connector
    configured: bool
    health: Health | None
    open_tasks: int = 0
    waiting_erasures: int = 0
    waiting_corrections: int = 0

    @property
    def status(self) -> str:
        """not_configured, failing, working or unchecked."""
        if not self.configured:
            return "not_configured"
        if self.health is not None and self.health.failing:
            return "failing"
        if self.health is not None and self.health.last_success_at is not None:
            return "working"
        return "unchecked"

    @property
    def error(self) -> Described | None:
        """The last error, titled in the staff member's language, with the technical detail beside it."""
        if self.health is None or not self.health.last_error_at:
            return None
        return describe(self.health.last_error)

    @property
    def tables(self) -> str:
        return ", ".join(table.name for table in self.connector.tables)


def states() -> list[State]:
    """Every declared connector with its health, in the declaration's order."""
    connectors = declared()
    health = {row.connector: row for row in Health.objects.filter(connector__in=[c.id for c in connectors])}
    tasks: dict[str, int] = {}
    for name in ManualTask.objects.filter(confirmed_at__isnull=True).values_list("connector", flat=True):
        tasks[name] = tasks.get(name, 0) + 1
    waiting: dict[str, int] = {}
    pending = WebhookErasure.objects.exclude(status=WebhookErasure.Status.DONE)
    for name in pending.values_list("connector", flat=True):
        waiting[name] = waiting.get(name, 0) + 1
    corrections: dict[str, int] = {}
    for name in Correction.objects.filter(status=Correction.Status.PENDING).values_list("connector", flat=True):
        corrections[name] = corrections.get(name, 0) + 1
    return [
        State(
            connector=connector,
            configured=is_configured(connector),
            health=health.get(connector.id),
            open_tasks=tasks.get(connector.id, 0),
            waiting_erasures=waiting.get(connector.id, 0),
            waiting_corrections=corrections.get(connector.id, 0),
        )
        for connector in connectors
    ]


def console_tiles(user: User) -> list[Tile]:
    if not user.can(Capability.HANDLE_REQUESTS):
        return []
    found = states()
    if not found:
        return []
    failing = sum(1 for state in found if state.status == "failing")
    text = (
        _("A connector is failing: requests cannot be closed as complete until it works.")
        if failing
        else _("The company's other systems that rights requests and retention reach.")
    )
    return [Tile(_("Connectors"), text, reverse("connectors_staff:overview"), failing or None, alert=bool(failing))]
