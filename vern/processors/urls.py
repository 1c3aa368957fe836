from __future__ import annotations

from django.urls import path

from vern.processors import views

app_name = "processors"

urlpatterns = [
    path("", views.trust, name="trust"),
    path("changes.atom", views.ChangesFeed(), name="feed"),
]
