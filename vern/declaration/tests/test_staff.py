"""The privacy officer sees the published version, the draft's problems and what publishing would change."""

from __future__ import annotations

import pytest

from vern.accounts.testing import staff_login
from vern.declaration.models import PolicyVersion

pytestmark = pytest.mark.django_db


def test_the_officer_sees_a_broken_draft_with_its_lines_and_cannot_publish_it(
    client, personas, published, settings, tmp_path, default_source
):
    draft = tmp_path / "draft.yaml"
    draft.write_text(default_source.replace("    legal_bases: [a]\n", "    legal_bases: [consent]\n", 1))
    settings.VERN_DECLARATION = draft
    settings.VERN_DECLARATION_IN_FILE = True
    staff_login(client, personas.privacy_officer)
    page = client.get("/en/staff/declaration/").content.decode()
    assert "The draft has 1 problem and cannot be published" in page
    assert "purposes[3].legal_bases[0] (line" in page
    assert "Publish the draft" not in page
    response = client.post("/staff/declaration/publish/", {"note": "try"})
    assert response.status_code == 302
    assert PolicyVersion.objects.count() == 1


def test_the_officer_sees_the_change_a_draft_would_make_and_publishes_it(
    client, personas, published, settings, tmp_path, default_source
):
    draft = tmp_path / "draft.yaml"
    draft.write_text(default_source.replace("support@kaukus.no", "personvern@kaukus.no"))
    settings.VERN_DECLARATION = draft
    settings.VERN_DECLARATION_IN_FILE = True
    staff_login(client, personas.privacy_officer)
    page = client.get("/en/staff/declaration/").content.decode()
    # The change as a reader of the policy sees it, not YAML.
    assert "personvern@kaukus.no" in page and "email: personvern" not in page
    assert "13(2)(f)" in page  # the Art. 13 checklist of the valid draft
    client.post("/staff/declaration/publish/", {"note": "New address", "significant": "yes"})
    latest = PolicyVersion.objects.get(number=2)
    assert latest.significant and latest.note == "New address" and latest.published_by.startswith("staff:")
    assert "personvern@kaukus.no" in client.get("/en/privacy/").content.decode()


def test_publishing_a_draft_the_same_as_the_published_version_says_so_as_information(
    client, personas, published, settings, tmp_path, default_source
):
    draft = tmp_path / "draft.yaml"
    draft.write_text(default_source)
    settings.VERN_DECLARATION = draft
    settings.VERN_DECLARATION_IN_FILE = True
    staff_login(client, personas.privacy_officer)
    response = client.post("/en/staff/declaration/publish/", {"note": "again"}, follow=True)
    page = response.content.decode()
    assert '<div class="notice notice--info" role="status"><p>The draft is the same' in page
    assert PolicyVersion.objects.count() == 1
