from __future__ import annotations

from django.urls import path

from vern.scanner import staff_views

app_name = "scanner_staff"

urlpatterns = [
    path("", staff_views.overview, name="overview"),
    path("now/", staff_views.scan_now, name="now"),
    path("<int:pk>/", staff_views.run, name="run"),
    path("<int:pk>/<str:pass_name>.jpg", staff_views.shot, name="shot"),
]
