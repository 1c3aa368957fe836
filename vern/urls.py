"""Public URLs are part of vern's interface: operators link to them (see DESIGN.md, Web).

Norwegian Bokmål pages have no prefix, English pages live under ``/en/``; the
language comes from the URL alone, never from a cookie.
"""

from __future__ import annotations

from django.conf.urls.i18n import i18n_patterns
from django.urls import URLPattern, URLResolver, include, path

from vern.ops import views as ops_views
from vern.site import openapi as site_openapi
from vern.site import views as site_views

urlpatterns: list[URLPattern | URLResolver] = [
    path("robots.txt", site_views.robots_txt, name="robots_txt"),
    path("healthz", ops_views.healthz, name="healthz"),
    path("api/consent/", include("vern.consent.api_urls")),
    path("api/enquiries/", include("vern.enquiries.api_urls")),
    path("api/analytics/", include("vern.analytics.api_urls")),
    path("api/openapi.json", site_openapi.openapi, name="openapi"),
]

urlpatterns += i18n_patterns(
    path("staff/", include("vern.accounts.urls")),
    path("staff/", include("vern.ops.urls")),
    path("staff/declaration/", include("vern.declaration.staff_urls")),
    path("staff/consent/", include("vern.consent.staff_urls")),
    path("staff/scans/", include("vern.scanner.staff_urls")),
    path("staff/enquiries/", include("vern.enquiries.staff_urls")),
    path("staff/retention/", include("vern.retention.staff_urls")),
    path("staff/breaches/", include("vern.breaches.staff_urls")),
    path("staff/risks/", include("vern.breaches.risk_urls")),
    path("staff/analytics/", include("vern.analytics.staff_urls")),
    path("staff/newsletter/", include("vern.newsletter.staff_urls")),
    path("staff/requests/", include("vern.rights.staff_urls")),
    path("staff/connectors/", include("vern.connectors.staff_urls")),
    path("privacy/requests/", include("vern.rights.urls")),
    path("privacy/processing/", include("vern.processors.urls")),
    path("staff/processors/", include("vern.processors.staff_urls")),
    path("privacy/", include("vern.declaration.urls")),
    path("", include("vern.consent.urls")),
    path("", include("vern.enquiries.urls")),
    path("", include("vern.newsletter.urls")),
    path("", include("vern.connectors.urls")),
    path("", include("vern.site.urls")),
    prefix_default_language=False,
)

handler400 = "vern.site.views.bad_request"
handler403 = "vern.site.views.permission_denied"
handler404 = "vern.site.views.page_not_found"
handler500 = "vern.site.views.server_error"
