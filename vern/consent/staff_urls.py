from __future__ import annotations

from django.urls import path

from vern.consent import staff_views

app_name = "consent_staff"

urlpatterns = [
    path("", staff_views.search, name="search"),
    path("verify/", staff_views.verify, name="verify"),
]
