from __future__ import annotations

from django.urls import path

from vern.consent import views

app_name = "consent_api"

urlpatterns = [
    path("", views.api_choose, name="choose"),
    path("config", views.api_config, name="config"),
]
