from __future__ import annotations

from django.urls import path

from vern.analytics import views

app_name = "analytics_api"

urlpatterns = [
    path("event", views.event, name="event"),
    path("pixel.gif", views.pixel, name="pixel"),
]
