from __future__ import annotations

from django.urls import path

from vern.ops import views

app_name = "ops"

urlpatterns = [
    path("jobs/", views.jobs, name="jobs"),
    path("jobs/<int:pk>/retry/", views.job_retry, name="job_retry"),
    path("outbox/", views.outbox, name="outbox"),
    path("outbox/<int:pk>/requeue/", views.outbox_requeue, name="outbox_requeue"),
    path("audit/", views.audit, name="audit"),
    path("audit/verify/", views.audit_verify_view, name="audit_verify"),
]
