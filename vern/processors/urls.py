from __future__ import annotations

from django.urls import path

from vern.processors import views

app_name = "processors"

urlpatterns = [
    path("", views.trust, name="trust"),
    path("changes.atom", views.ChangesFeed(), name="feed"),
    path("subscribed/", views.subscribed, name="subscribed"),
    path("confirm/<str:token>/", views.confirm, name="confirm"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
]
