"""Before a declaration is published: do the SQL connectors it names fit their databases?"""

from __future__ import annotations

from typing import Any

from vern.connectors import sql, webhook
from vern.connectors.config import ConnectorFailed, NotConfigured, is_configured, secret_value


def declared_columns(declaration: Any) -> list[tuple[tuple[int | str, ...], str]]:
    """Each declared table or column a configured SQL connector's database does not have, and each
    configured webhook whose URL is not https:// (or http:// to a loopback host).

    A connector that is not configured, or cannot be reached now, is not judged here: the
    connectors page and ``vern connectors check`` report it, and it blocks closing requests.
    """
    problems: list[tuple[tuple[int | str, ...], str]] = []
    for index, connector in enumerate(declaration.connectors):
        if connector.kind == "http":
            try:
                problem = webhook.url_problem(connector.id, secret_value(connector.url_env))
            except (NotConfigured, ConnectorFailed):
                problem = None
            if problem is not None:
                problems.append((("connectors", index, "url_env"), problem))
            continue
        if connector.kind != "sql" or not is_configured(connector):
            continue
        try:
            found = sql.problems(connector)
        except ConnectorFailed:
            continue
        problems += [(("connectors", index, "tables"), f"{connector.id}: {problem}") for problem in found]
    return problems
