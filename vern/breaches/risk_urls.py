from __future__ import annotations

from django.urls import path

from vern.breaches import risk_views

app_name = "risks_staff"

urlpatterns = [
    path("", risk_views.risk_list, name="list"),
    path("new/", risk_views.risk_new, name="new"),
    path("review/", risk_views.register_review_view, name="review"),
    path("dpia/", risk_views.dpia_page, name="dpia"),
    path("dpia/screen/", risk_views.screen, name="screen"),
    path("export.csv", risk_views.risks_export_csv, name="export_csv"),
    path("export.json", risk_views.risks_export_json, name="export_json"),
    path("<int:pk>/", risk_views.risk_detail, name="detail"),
    path("<int:pk>/edit/", risk_views.risk_edit, name="edit"),
]
