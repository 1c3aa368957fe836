from __future__ import annotations

from django.urls import path

from vern.connectors import staff_views

app_name = "connectors_staff"

urlpatterns = [
    path("", staff_views.overview, name="overview"),
    path("check/", staff_views.check_now, name="check"),
]
