# ruff: noqa: F811 (the fixtures imported from vern.connectors.tests.fixtures are arguments below)
"""A connector's error, as staff read it: the kind of problem in their language, the driver's words beside it.

The errors come from the real drivers and the real test webhook: a MariaDB user that is refused, a
server nobody listens on, a PostgreSQL database or a column that does not exist, an answer signed
with the wrong secret. Each is titled in Bokmål and in English; the technical detail keeps the
driver's (redacted) words.
"""

from __future__ import annotations

import pytest
from django.utils import translation

from vern.connectors import errors, services
from vern.connectors.config import declared
from vern.connectors.models import Health
from vern.connectors.tests import systems
from vern.connectors.tests.fixtures import _journal_in_its_own_dir, moeteadm_databases, publish  # noqa: F401 (fixtures)
from vern.registry.surface import completion_blockers
from vern.tests.test_connectors_webhook_and_tasks import WEBHOOK_YAML
from vern.tests.test_connectors_webhook_and_tasks import webhook as webhook

pytestmark = pytest.mark.django_db


def checked(kind_of_url: str, monkeypatch, publish) -> Health:
    monkeypatch.setenv("VERN_TEST_MOETEADM_URL", systems.mariadb_url())
    publish(systems.CONNECTOR_YAML)  # published while it fits; then the URL points elsewhere
    monkeypatch.setenv("VERN_TEST_MOETEADM_URL", kind_of_url)
    [connector] = declared()
    assert services.connector_check(connector)
    return Health.objects.get(connector="moeteadm")


@pytest.mark.parametrize(
    ("url", "nb", "en", "detail"),
    [
        (
            f"mysql://nobody-here:wrong@127.0.0.1:3306/{systems.DATABASE}",
            "Det andre systemet avviste brukernavnet eller passordet til vern.",
            "The other system refused vern's user name or password.",
            "Access denied for user",
        ),
        (
            "mysql://root@127.0.0.1:9/x",
            "vern får ikke kontakt med det andre systemet.",
            "vern cannot connect to the other system.",
            "cannot connect to the MariaDB/MySQL database",
        ),
        (
            "postgresql://postgres@127.0.0.1:5432/no_such_moeteadm_database",
            "Databasen som koblingens adresse nevner, finnes ikke.",
            "The database named in the connector's URL does not exist.",
            "does not exist",
        ),
    ],
    ids=["refused", "unreachable", "no-database"],
)
def test_a_drivers_error_is_titled_in_both_languages_with_its_words_as_the_detail(
    moeteadm_databases, monkeypatch, publish, personas, url, nb, en, detail
):
    systems.reset("mysql", people=[], logins=[])
    health = checked(url, monkeypatch, publish)
    with translation.override("nb"):
        described = errors.describe(health.last_error)
        assert described.title == nb and detail in described.detail
        assert any(line.startswith(f"møteadm feiler: {nb}\n") for line in completion_blockers(1))
    with translation.override("en"):
        assert errors.describe(health.last_error).title == en


def test_a_declared_column_missing_and_a_bad_signature_are_named_as_such(
    moeteadm_databases, monkeypatch, publish, webhook
):
    systems.reset("postgresql", people=[], logins=[])
    monkeypatch.setenv("VERN_TEST_MOETEADM_URL", systems.postgres_url())
    publish(systems.CONNECTOR_YAML)
    with systems.moeteadm("postgresql") as connection:
        connection.cursor().execute("ALTER TABLE users DROP COLUMN phone")
    [connector] = declared()
    [problem] = services.connector_check(connector)
    assert problem == "column users.phone does not exist"
    with translation.override("en"):
        assert errors.describe(problem).title.startswith("A table or column named in the declaration is missing")

    publish(WEBHOOK_YAML)
    webhook.mode = "bad_signature"
    [connector] = declared()
    services.connector_check(connector)
    with translation.override("nb"):
        described = errors.describe(Health.objects.get(connector="support").last_error)
    assert described.kind == "signature" and described.title.startswith("Signaturen stemte ikke")
    assert described.detail == "the webhook's answer has a bad or old signature"
