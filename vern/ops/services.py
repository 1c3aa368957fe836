"""Staff actions on the system's own machinery, each audited."""

from __future__ import annotations

from django.db import transaction

from vern.audit.events import AuditEvent
from vern.audit.services import Actor, audit_record
from vern.jobs.models import Job
from vern.jobs.services import job_retry
from vern.mail.models import OutboxMessage
from vern.mail.services import outbox_requeue


def job_retry_by_staff(*, job: Job, actor: Actor) -> Job:
    with transaction.atomic():
        job = job_retry(job_id=job.pk)
        audit_record(
            action=AuditEvent.JOB_RETRIED,
            actor=actor,
            object_type="jobs.job",
            object_id=job.pk,
            data={"name": job.name},
        )
    return job


def outbox_requeue_by_staff(*, message: OutboxMessage, actor: Actor) -> OutboxMessage:
    with transaction.atomic():
        message = outbox_requeue(message_id=message.pk)
        audit_record(
            action=AuditEvent.MAIL_REQUEUED,
            actor=actor,
            object_type="mail.outboxmessage",
            object_id=message.pk,
            subject_key=message.to_index,
            data={"kind": message.kind},
        )
    return message


def outbox_show_by_cli(*, message_id: int) -> OutboxMessage:
    """The whole of one outbox message, for ``vern mail show`` (someone with a shell on the server):
    the console mail backend prints only its outline. Audited, since the mail holds personal data."""
    with transaction.atomic():
        message = OutboxMessage.objects.get(pk=message_id)
        audit_record(
            action=AuditEvent.MAIL_SHOWN,
            actor=Actor.cli(),
            object_type="mail.outboxmessage",
            object_id=message.pk,
            subject_key=message.to_index,
            data={"kind": message.kind},
        )
    return message
