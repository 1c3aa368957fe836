from __future__ import annotations

from django.urls import path

from vern.breaches import staff_views

app_name = "breaches_staff"

urlpatterns = [
    path("", staff_views.breach_list, name="list"),
    path("new/", staff_views.breach_new, name="new"),
    path("export.csv", staff_views.breaches_export_csv, name="export_csv"),
    path("export.json", staff_views.breaches_export_json, name="export_json"),
    path("<int:pk>/", staff_views.breach_detail, name="detail"),
    path("<int:pk>/edit/", staff_views.breach_edit, name="edit"),
    path("<int:pk>/decide/", staff_views.breach_decide_view, name="decide"),
    path("<int:pk>/report/", staff_views.breach_report_view, name="report"),
    path("<int:pk>/notice/", staff_views.breach_notice_view, name="notice"),
    path("<int:pk>/close/", staff_views.breach_close_view, name="close"),
    path("<int:pk>/form.csv", staff_views.breach_form_csv, name="form_csv"),
    path("<int:pk>/form.json", staff_views.breach_form_json, name="form_json"),
]
