from __future__ import annotations

from django.urls import path

from vern.enquiries import views

app_name = "enquiries"

urlpatterns = [
    path("contact/", views.contact, name="contact"),
    path("contact/thanks/", views.contact_thanks, name="contact_thanks"),
    path("demo/", views.demo, name="demo"),
    path("demo/thanks/", views.demo_thanks, name="demo_thanks"),
]
