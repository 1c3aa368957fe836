from __future__ import annotations

from django.urls import path

from vern.declaration import staff_views

app_name = "declaration_staff"

urlpatterns = [
    path("", staff_views.overview, name="overview"),
    path("publish/", staff_views.publish, name="publish"),
    path("record/", staff_views.record, name="record"),
]
