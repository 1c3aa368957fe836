from __future__ import annotations

from django.urls import path

from vern.enquiries import staff_views

app_name = "enquiries_staff"

urlpatterns = [
    path("", staff_views.inbox, name="inbox"),
    path("new/", staff_views.register, name="register"),
    path("<int:pk>/", staff_views.detail, name="detail"),
    path("<int:pk>/contact/", staff_views.log_contact, name="log_contact"),
    path("<int:pk>/reply/", staff_views.reply, name="reply"),
    path("<int:pk>/state/", staff_views.set_state, name="set_state"),
    path("<int:pk>/owner/", staff_views.assign, name="assign"),
    path("<int:pk>/customer/", staff_views.mark_customer, name="mark_customer"),
    path("<int:pk>/ended/", staff_views.end_relationship, name="end_relationship"),
    path("<int:pk>/delete/", staff_views.delete, name="delete"),
    path("<int:pk>/rights-request/", staff_views.to_rights_request, name="to_rights_request"),
    path("<int:pk>/attachments/<int:attachment_pk>/", staff_views.attachment, name="attachment"),
]
