from __future__ import annotations

from django.urls import path

from vern.rights import views

app_name = "rights"

urlpatterns = [
    path("", views.center, name="center"),
    path("sent/", views.sent, name="sent"),
    path("confirm/<str:token>/", views.confirm, name="confirm"),
    path("download/<str:token>/", views.download, name="download"),
    path("status/<str:token>/", views.status, name="status"),
    path("schema/portability.json", views.portability_schema, name="portability_schema"),
]
