from __future__ import annotations

from django.urls import path

from vern.connectors import views

app_name = "connectors"

urlpatterns = [
    path("processor-tasks/<str:token>/", views.task, name="task"),
]
