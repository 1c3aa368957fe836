from __future__ import annotations

from django.urls import path

from vern.analytics import stats_api, views

app_name = "analytics_api"

urlpatterns = [
    path("event", views.event, name="event"),
    path("pixel.gif", views.pixel, name="pixel"),
    path("stats", stats_api.stats, name="stats"),
]
