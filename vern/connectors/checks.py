"""Before a declaration is published: do the SQL connectors it names fit their databases?"""

from __future__ import annotations

from typing import Any

from vern.connectors import sql
from vern.connectors.config import ConnectorFailed, is_configured


def declared_columns(declaration: Any) -> list[tuple[tuple[int | str, ...], str]]:
    """Each declared table or column a configured SQL connector's database does not have.

    A connector that is not configured, or cannot be reached now, is not judged here: the
    connectors page and ``vern connectors check`` report it, and it blocks closing requests.
    """
    problems: list[tuple[tuple[int | str, ...], str]] = []
    for index, connector in enumerate(declaration.connectors):
        if connector.kind != "sql" or not is_configured(connector):
            continue
        try:
            found = sql.problems(connector)
        except ConnectorFailed:
            continue
        problems += [(("connectors", index, "tables"), f"{connector.id}: {problem}") for problem in found]
    return problems
