"""Links that lead to the right place: §9 of the policy and every form notice lead to the privacy center
(P15, P16), in the visitor's language."""

from __future__ import annotations

import json
import re

import pytest
from django.core.cache import cache
from django.utils import timezone

from vern.audit.services import Actor
from vern.declaration.services import declaration_publish
from vern.enquiries.services import Intake, enquiry_register
from vern.mail.models import OutboxMessage

pytestmark = pytest.mark.django_db
PARTNER = "https://moteadm.kaukus.no"


@pytest.fixture(autouse=True)
def _no_rate_limits_left_over():
    cache.clear()


def section(html: str, anchor: str) -> str:
    return html.split(f'<section id="{anchor}"', 1)[1].split("</section>", 1)[0]


@pytest.mark.parametrize(("prefix", "words"), [("", "personvernsiden"), ("/en", "privacy center")], ids=["nb", "en"])
def test_p15_section_9_of_the_policy_links_the_privacy_center(client, published, prefix, words):
    rights = section(client.get(f"{prefix}/privacy/").content.decode(), "rights")
    link = re.search(r'<a href="([^"]+)">([^<]+)</a>', rights.split('class="policy__center"', 1)[1])
    assert link is not None
    assert link.group(1) == f"{prefix}/privacy/requests/" and words in link.group(2)
    assert client.get(link.group(1)).status_code == 200


@pytest.mark.parametrize("path", ["/contact/", "/demo/", "/en/contact/", "/en/demo/"])
def test_the_form_notices_your_rights_link_leads_to_the_privacy_center(client, published, path):
    html = client.get(path).content.decode()
    prefix = "/en" if path.startswith("/en/") else ""
    name = "Your rights" if prefix else "Dine rettigheter"
    assert f'<a href="{prefix}/privacy/requests/">{name}</a>' in html
    assert "#rights" not in html


def test_the_embedded_form_notice_links_the_privacy_center_on_the_site_itself(client, default_source):
    source = default_source.replace(
        "  embedding_origins: []\n\nprocessors:", f"  embedding_origins: [{PARTNER}]\n\nprocessors:"
    )
    declaration_publish(source=source, actor=Actor.cli())
    body = json.loads(client.get("/api/enquiries/form?kind=contact&lang=en", HTTP_ORIGIN=PARTNER).content)
    assert body["notice"]["rights_url"] == "http://testserver/en/privacy/requests/"


def test_the_acknowledgement_of_an_enquiry_links_the_privacy_center(published, personas):
    enquiry_register(
        staff=personas.sales,
        kind="contact",
        channel="email",
        received_at=timezone.now(),
        intake=Intake(name="Kari Nordmann", email="kari@example.no", phone="", organisation="Bergen kommune"),
        language="en",
        acknowledge=True,
    )
    mail = OutboxMessage.objects.get(kind="enquiry_received")
    assert "http://testserver/en/privacy/requests/" in mail.body_text
    assert 'href="http://testserver/en/privacy/requests/"' in mail.body_html and "#rights" not in mail.body_html
