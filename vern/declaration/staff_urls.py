from __future__ import annotations

from django.urls import path

from vern.declaration import staff_views

app_name = "declaration_staff"

urlpatterns = [
    path("", staff_views.overview, name="overview"),
    path("publish/", staff_views.publish, name="publish"),
    path("draft/start/", staff_views.draft_start, name="draft_start"),
    path("draft/discard/", staff_views.draft_discard, name="draft_discard"),
    path("draft/<slug:part>/", staff_views.edit, name="edit"),
    path("record/", staff_views.record, name="record"),
]
