from __future__ import annotations

from django.urls import path

from vern.rights.staff_views import erasure, intake, packages, queue, rectification, restriction, workflow

app_name = "rights_staff"

urlpatterns = [
    path("", queue.queue, name="queue"),
    path("new/", intake.register, name="register"),
    path("<int:pk>/", workflow.detail, name="detail"),
    path("<int:pk>/start/", workflow.start, name="start"),
    path("<int:pk>/assign/", workflow.assign, name="assign"),
    path("<int:pk>/note/", workflow.note, name="note"),
    path("<int:pk>/message/", workflow.message, name="message"),
    path("<int:pk>/phone/", workflow.verify_phone, name="verify_phone"),
    path("<int:pk>/extend/", workflow.extend, name="extend"),
    path("<int:pk>/answer/", workflow.answer, name="answer"),
    path("<int:pk>/refuse/", workflow.refuse, name="refuse"),
    path("<int:pk>/erasure/", erasure.erasure, name="erasure"),
    path("<int:pk>/rectify/", rectification.rectify, name="rectify"),
    path("<int:pk>/objection/", restriction.objection, name="objection"),
    path("<int:pk>/restriction/", restriction.restriction, name="restriction"),
    path("<int:pk>/package/<str:kind>/", packages.package, name="package"),
]
