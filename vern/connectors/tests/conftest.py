from __future__ import annotations

from vern.connectors.tests.fixtures import _journal_in_its_own_dir, moeteadm_databases, publish

__all__ = ["_journal_in_its_own_dir", "moeteadm_databases", "publish"]
