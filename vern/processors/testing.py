"""A register for tests that need one: the staff page test and the trust page's browser test."""

from __future__ import annotations

import datetime as dt
from typing import Any


def make_processors(staff: Any) -> list[Any]:
    """The register started from the policy (Hetzner), a mail service in the United States under
    the Standard Contractual Clauses with a sub-processor it announced, and one not yet active."""
    from django.utils import timezone

    from vern.audit.services import Actor
    from vern.declaration.selectors import declaration_of, latest_version
    from vern.processors.models import Processor
    from vern.processors.services import (
        Agreement,
        ProcessorInput,
        processor_create,
        register_seed,
        subprocessor_change_record,
    )

    current = latest_version()
    assert current is not None
    register_seed(declaration=declaration_of(current), policy_version=current.number, actor=Actor.cli())
    today = timezone.localdate()
    mailer = processor_create(
        actor=Actor.staff(staff),
        data=ProcessorInput(
            key="postmark",
            name="Postmark (ActiveCampaign LLC)",
            service_nb="Utsending av e-post",
            service_en="Sending email",
            countries=["US"],
            purposes=["enquiries", "newsletter"],
            data_categories=["contact_details"],
            status=Processor.Status.ACTIVE,
            agreement_date=today - dt.timedelta(days=30),
            transfer_mechanism=Processor.Mechanism.SCC,
            scc_module=2,
            transfer_assessment="Vurdert 2026: kryptering i overføring og lagring.",
            next_review=today + dt.timedelta(days=200),
        ),
        agreement=Agreement(content=b"%PDF-1.4 dpa", filename="postmark-dpa.pdf", content_type="application/pdf"),
    )
    subprocessor_change_record(
        actor=Actor.staff(staff),
        processor=mailer,
        kind="added",
        name="Amazon Web Services",
        service="Servere",
        countries=["US", "IE"],
        announced_on=today - dt.timedelta(days=3),
        objection_deadline=today + dt.timedelta(days=27),
    )
    planned = processor_create(
        actor=Actor.staff(staff),
        data=ProcessorInput(
            key="crm",
            name="Kundesystem AS",
            service_nb="Kundeoppfølging",
            service_en="Customer follow-up",
            countries=["NO"],
            next_review=today + dt.timedelta(days=20),
        ),
    )
    return [mailer, Processor.objects.get(key="hetzner"), planned]
