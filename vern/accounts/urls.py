from __future__ import annotations

from django.urls import path

from vern.accounts import passkey_views, security_views, views

app_name = "accounts"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("password/forgot/", views.password_forgot, name="password_forgot"),
    path("password/set/<uidb64>/<token>/", views.password_set, name="password_set"),
    path("password/change/", views.password_change, name="password_change"),
    path("language/", views.language_set, name="language"),
    path("second-factor/setup/", security_views.enrol, name="enrol"),
    path("second-factor/", security_views.verify, name="verify"),
    path("second-factor/passkey/options/", passkey_views.sign_in_options, name="passkey_sign_in_options"),
    path("second-factor/passkey/", passkey_views.sign_in, name="passkey_sign_in"),
    path("confirm-password/", security_views.reauth, name="reauth"),
    path("confirm-password/passkey/options/", passkey_views.reauth_options, name="passkey_reauth_options"),
    path("confirm-password/passkey/", passkey_views.reauth, name="passkey_reauth"),
    path("security/", security_views.security, name="security"),
    path("security/sessions/<int:pk>/end/", security_views.session_end, name="session_end"),
    path("security/recovery-codes/", security_views.recovery_codes, name="recovery_codes"),
    path("security/passkeys/options/", passkey_views.register_options, name="passkey_register_options"),
    path("security/passkeys/", passkey_views.register, name="passkey_register"),
    path("security/passkeys/<int:pk>/remove/", passkey_views.remove, name="passkey_remove"),
    path(
        "people/<int:pk>/second-factor/reset/",
        security_views.person_second_factor_reset,
        name="person_second_factor_reset",
    ),
    path("people/", views.people_list, name="people"),
    path("people/new/", views.person_new, name="person_new"),
    path("people/<int:pk>/", views.person_detail, name="person"),
    path("people/<int:pk>/roles/", views.person_roles, name="person_roles"),
    path("people/grants/<int:pk>/", views.grant_decide, name="grant_decide"),
    path("people/<int:pk>/active/", views.person_active, name="person_active"),
    path("people/<int:pk>/link/", views.person_send_link, name="person_send_link"),
]
