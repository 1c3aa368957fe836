"""The enquiries' search tokens under ``vern keys rotate``: a folded search finds the same enquiries
before, during and after a rotation of the index key (P24, issue 21)."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from vern.accounts.testing import staff_login
from vern.enquiries.models import SearchTerm
from vern.enquiries.tests.helpers import names_listed
from vern.enquiries.tests.helpers import unowned as make
from vern.keys.tests.helpers import rotate_settings

pytestmark = pytest.mark.django_db


def test_p24_search_folds_before_during_and_after_vern_keys_rotate(
    client: Any, published: Any, personas: Any, settings: Any
) -> None:
    """P24: the search tokens are keyed by the index key and rebuilt by ``vern keys rotate``."""
    enquiry = make(personas.sales, name="Per Ødegård", organisation="Bræk Rør AS", email="per@fjordkraft.no")
    old = set(SearchTerm.objects.filter(enquiry=enquiry).values_list("digest", flat=True))
    staff_login(client, personas.sales)

    def found(query: str) -> list[str]:
        return names_listed(client.get("/staff/enquiries/", {"q": query}).content.decode())

    rotate_settings(settings)
    # A new key in front, the tokens not yet rebuilt: found under the old key.
    assert found("odeg") == ["Per Ødegård"]
    later = make(personas.sales, name="Åse Hansen", organisation="Aalesund kommune", email="ase@example.no")
    assert found("aase") == ["Åse Hansen"]  # written under the new key

    call_command("keys", "rotate", stdout=StringIO())

    new = set(SearchTerm.objects.filter(enquiry=enquiry).values_list("digest", flat=True))
    assert new and not new & old and len(new) == len(old)
    settings.VERN_INDEX_KEYS = settings.VERN_INDEX_KEYS.split(",")[0]  # only the new key is left
    assert found("odeg") == ["Per Ødegård"]
    assert found("ØDEGAARD braek") == ["Per Ødegård"]
    assert found("aase") == ["Åse Hansen"] and later.pk
