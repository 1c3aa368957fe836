from __future__ import annotations

from django.urls import path

from vern.analytics import staff_views

app_name = "analytics_staff"

urlpatterns = [
    path("", staff_views.dashboard, name="dashboard"),
    path("export.csv", staff_views.export, name="export"),
    path("settings/", staff_views.settings_page, name="settings"),
]
