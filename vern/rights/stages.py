"""Where a request stands, as the steps of a stepper: received → confirmed → in progress → answered or refused.

The console's request page and the person's status page draw the same steps from
the request's status, so staff and the person always see the same stage. The
status moves on by itself when vern's automation carries out a right
(``services.steps.mark_done``) or every right (``services.workflow.request_answer_fulfilled``),
so a request whose copy of the data went out by itself stands at "answered".
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from vern.rights.models import Request

S = Request.Status
# The index of the step each status stands at.
_AT: dict[str, int] = {
    S.AWAITING_CONFIRMATION: 0,
    S.LAPSED: 1,
    S.CONFIRMED: 1,
    S.IN_PROGRESS: 2,
    S.EXTENDED: 2,
    S.ANSWERED: 3,
    S.REFUSED: 3,
}


@dataclass(frozen=True)
class Stage:
    """One step: its name, and whether it is behind the request, where it stands, or still ahead."""

    key: str
    label: str
    state: str  # "done", "current" or "todo"
    note: str = ""


def stages_of(request: Request) -> list[Stage]:
    """The four steps of the request, in order, each with its state and (for the current one) a note."""
    status = request.status
    labels = [
        ("received", _("Received")),
        ("confirmed", _("Not confirmed in time") if status == S.LAPSED else _("Confirmed")),
        ("in_progress", _("In progress")),
        ("closed", _("Refused") if status == S.REFUSED else _("Answered")),
    ]
    at = _AT.get(status, 0)
    closed = status in (S.ANSWERED, S.REFUSED, S.LAPSED)
    notes: dict[str, str] = {
        S.AWAITING_CONFIRMATION.value: _("waiting for confirmation by the link in the email"),
        S.EXTENDED.value: _("the deadline is extended"),
    }
    stages = []
    for index, (key, label) in enumerate(labels):
        if status == S.LAPSED and index > at:
            break  # a lapsed request goes no further
        if index < at or (index == at and closed):
            state = "done"
        elif index == at:
            state = "current"
        else:
            state = "todo"
        note = str(notes.get(status, "")) if index == at else ""
        stages.append(Stage(key=key, label=str(label), state=state, note=note))
    return stages


def stage_label(request: Request) -> str:
    """The name of the step the request stands at."""
    stages = stages_of(request)
    current = [stage for stage in stages if stage.state == "current"]
    return (current or stages[-1:])[0].label
