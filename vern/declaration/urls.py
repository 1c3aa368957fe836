from __future__ import annotations

from django.urls import path

from vern.declaration import views

app_name = "declaration"

urlpatterns = [
    path("", views.policy, name="policy"),
    path("cookies/", views.cookies, name="cookies"),
    path("versions/", views.versions, name="versions"),
    path("versions/<int:number>/", views.version_detail, name="version"),
    path("versions/<int:number>/changes/", views.version_changes, name="changes"),
    path("notice/close/", views.notice_close, name="notice_close"),
]
