"""Which connectors the published declaration names, and where their URLs and secrets come from.

The declaration names an environment variable (``url_env``, ``secret_env``), never the value:
the value is read from that variable, or from the file named by ``<NAME>_FILE`` (Docker secrets),
each time a connector is used, so a URL set later needs no new declaration. A connector whose
variable is unset is *declared but not configured*: it is shown as such, searched nowhere, and
does not block a request (nothing can be asked of it); ``vern connectors check`` says so.
"""

from __future__ import annotations

import os
from pathlib import Path

from vern.declaration.schema import Connector, Declaration
from vern.declaration.selectors import published_declaration


class NotConfigured(Exception):
    """The connector's variable is not set: it is declared, but vern cannot reach the system yet."""


class ConnectorFailed(Exception):
    """The other system could not be reached, refused, or does not fit what the declaration says.

    The message is safe to show staff and to log: it never holds an identifier or a URL's password.
    """


def declared(declaration: Declaration | None = None) -> list[Connector]:
    """The connectors of the published declaration (or of ``declaration``)."""
    if declaration is None:
        declaration = published_declaration()
    return list(declaration.connectors) if declaration is not None else []


def secret_value(name: str | None) -> str:
    """The value of variable ``name`` or of the file named by ``<name>_FILE``; NotConfigured if neither."""
    if not name:
        raise NotConfigured("no variable is named")
    value = os.environ.get(name, "").strip()
    file_name = os.environ.get(f"{name}_FILE", "").strip()
    if value and file_name:
        raise ConnectorFailed(f"{name} and {name}_FILE are both set; keep only one")
    if file_name:
        try:
            value = Path(file_name).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConnectorFailed(f"{name}_FILE cannot be read: {exc.strerror}") from None
        if not value:
            raise ConnectorFailed(f"{name}_FILE is empty")
    if not value:
        raise NotConfigured(f"{name} is not set")
    return value


def is_configured(connector: Connector) -> bool:
    """Whether vern can try the connector: its URL (sql, http) is set; a manual one always can."""
    if connector.kind == "manual":
        return True
    try:
        secret_value(connector.url_env)
    except NotConfigured:
        return False
    except ConnectorFailed:
        return True  # set, but wrong: trying it reports the problem
    return True
