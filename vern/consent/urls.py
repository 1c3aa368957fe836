from __future__ import annotations

from django.urls import path

from vern.consent import views

app_name = "consent"

urlpatterns = [
    path("consent/", views.choose, name="choose"),
]
