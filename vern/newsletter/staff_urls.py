from __future__ import annotations

from django.urls import path

from vern.newsletter import staff_views

app_name = "newsletter_staff"

urlpatterns = [
    path("", staff_views.mailings, name="mailings"),
    path("<int:pk>/", staff_views.mailing, name="mailing"),
    path("<int:pk>/test/", staff_views.mailing_test, name="mailing_test"),
    path("<int:pk>/send/", staff_views.mailing_send, name="mailing_send"),
]
