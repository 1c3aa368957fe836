from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from vern.connectors.tests import systems


@pytest.fixture(scope="session")
def moeteadm_databases() -> Iterator[None]:
    """The "møteadm" test database on this machine's MariaDB and PostgreSQL, for the session."""
    with systems.created_databases():
        yield


@pytest.fixture
def publish(db: None, default_source: str) -> Callable[[str], Any]:
    """Publish the default declaration with ``extra`` YAML (a connectors section) in place of its own."""
    from vern.audit.services import Actor
    from vern.declaration.services import declaration_publish

    def publish(extra: str) -> Any:
        base = default_source.split("\nconnectors:\n", 1)[0]
        return declaration_publish(source=base + "\n" + extra, actor=Actor.cli(), note="With connectors")

    return publish


@pytest.fixture(autouse=True)
def _journal_in_its_own_dir(settings: Any, tmp_path: Any) -> None:
    settings.DATA_DIR = tmp_path
