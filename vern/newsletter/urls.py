from __future__ import annotations

from django.urls import path

from vern.newsletter import views

app_name = "newsletter"

urlpatterns = [
    path("newsletter/", views.subscribe, name="subscribe"),
    path("newsletter/sent/", views.sent, name="sent"),
    path("newsletter/confirm/<str:token>/", views.confirm, name="confirm"),
    path("newsletter/u/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("newsletter/u/<str:token>/preferences/", views.preferences, name="preferences"),
]
