from __future__ import annotations

from django.urls import path

from vern.processors import staff_views

app_name = "processors_staff"

urlpatterns = [
    path("", staff_views.register, name="register"),
    path("seed/", staff_views.seed, name="seed"),
    path("new/", staff_views.new, name="new"),
    path("export.csv", staff_views.export, {"format": "csv"}, name="export_csv"),
    path("export.json", staff_views.export, {"format": "json"}, name="export_json"),
    path("<int:pk>/", staff_views.processor, name="processor"),
    path("<int:pk>/edit/", staff_views.edit, name="edit"),
    path("<int:pk>/review/", staff_views.review, name="review"),
    path("<int:pk>/change/", staff_views.change, name="change"),
    path("<int:pk>/agreement/", staff_views.agreement, name="agreement"),
]
