from __future__ import annotations

from django.urls import path

from vern.enquiries import api

app_name = "enquiries_api"

urlpatterns = [
    path("", api.submit, name="submit"),
    path("form", api.form_config, name="form"),
]
