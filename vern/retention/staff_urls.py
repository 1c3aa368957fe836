from __future__ import annotations

from django.urls import path

from vern.retention import staff_views

app_name = "retention_staff"

urlpatterns = [
    path("", staff_views.overview, name="overview"),
    path("sweep/", staff_views.sweep_now, name="sweep"),
    path("holds/", staff_views.hold_new, name="hold_new"),
    path("holds/<int:pk>/end/", staff_views.hold_end, name="hold_end"),
]
