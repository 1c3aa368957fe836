"""Deploy checks: no stored value under a key that left the configuration; a rotation not left half done.

They read the count that ``vern keys status`` and ``vern keys rotate`` record (``KeyUse``),
never the tables themselves, so the check stays cheap on a large database. A count is as
fresh as the last status or rotation: run ``vern keys status`` before retiring a key.
"""

from __future__ import annotations

from typing import Any

from django.core.checks import Error, Tags, Warning, register
from django.db import DatabaseError

from vern.keys.selectors import UNATTRIBUTED, UNKNOWN, is_kept, key_use_recorded
from vern.lib.crypto import IndexKeys, Keyring
from vern.lib.keys import index_keys, keyring

SETTING = {"encryption": "VERN_ENCRYPTION_KEYS", "index": "VERN_INDEX_KEYS"}


def _columns(columns: dict[str, int]) -> str:
    shown = sorted(columns, key=lambda column: -columns[column])[:3]
    more = f" and {len(columns) - 3} more" if len(columns) > 3 else ""
    return ", ".join(f"{column} ({columns[column]})" for column in shown) + more


@register(Tags.security, deploy=True)
def check_key_use(app_configs: Any, **kwargs: Any) -> list[Error | Warning]:
    try:
        uses = key_use_recorded()
    except DatabaseError:
        return []  # not migrated yet: nothing has been counted
    configured: dict[str, Keyring | IndexKeys] = {"encryption": keyring(), "index": index_keys()}
    by_key: dict[tuple[str, str], dict[str, int]] = {}
    for use in uses:
        if use.key_id != UNATTRIBUTED and use.values:
            by_key.setdefault((use.kind, use.key_id), {})[use.column] = use.values
    problems: list[Error | Warning] = []
    for (kind, key_id), columns in sorted(by_key.items()):
        ring = configured[kind]
        total = sum(columns.values())
        if key_id == UNKNOWN:
            problems.append(
                Error(
                    f"{total} stored {kind} values name no configured key or do not verify: {_columns(columns)}",
                    hint="Restore the key that wrote them, or the rows from a backup; then run `vern keys status`.",
                    id="vern.keys.E003",
                )
            )
        elif key_id not in ring.keys:
            problems.append(
                Error(
                    f"{total} stored values use the {kind} key {key_id!r}, which {SETTING[kind]} no longer lists: "
                    f"{_columns(columns)}",
                    hint=f"Put {key_id!r} back at the end of {SETTING[kind]}, run `vern keys rotate`, and retire it "
                    "only when `vern keys status` says nothing uses it.",
                    id="vern.keys.E001" if kind == "encryption" else "vern.keys.E002",
                )
            )
        elif key_id != ring.current and (rotatable := {c: n for c, n in columns.items() if not is_kept(c)}):
            columns, total = rotatable, sum(rotatable.values())
            problems.append(
                Warning(
                    f"Key rotation is not finished: {total} stored values still use the old {kind} key {key_id!r} "
                    f"({_columns(columns)})",
                    hint="Run `vern keys rotate` (it continues where it stopped), then `vern keys status`.",
                    id="vern.keys.W001",
                )
            )
    return problems
