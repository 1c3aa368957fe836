from __future__ import annotations

from django.urls import path

from vern.rights import staff_views

app_name = "rights_staff"

urlpatterns = [
    path("", staff_views.queue, name="queue"),
    path("new/", staff_views.register, name="register"),
    path("<int:pk>/", staff_views.detail, name="detail"),
    path("<int:pk>/start/", staff_views.start, name="start"),
    path("<int:pk>/assign/", staff_views.assign, name="assign"),
    path("<int:pk>/note/", staff_views.note, name="note"),
    path("<int:pk>/phone/", staff_views.verify_phone, name="verify_phone"),
    path("<int:pk>/extend/", staff_views.extend, name="extend"),
    path("<int:pk>/answer/", staff_views.answer, name="answer"),
    path("<int:pk>/refuse/", staff_views.refuse, name="refuse"),
    path("<int:pk>/erasure/", staff_views.erasure, name="erasure"),
    path("<int:pk>/rectify/", staff_views.rectify, name="rectify"),
    path("<int:pk>/objection/", staff_views.objection, name="objection"),
    path("<int:pk>/restriction/", staff_views.restriction, name="restriction"),
    path("<int:pk>/package/<str:kind>/", staff_views.package, name="package"),
]
