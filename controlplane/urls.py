from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from apps.core.health import healthz, readyz
from apps.decisions import views as decision_views
from apps.decisions.api.packages import PolicyPackageApi, PolicyPackagesApi

urlpatterns = [
    # The decision API first: it is the hot path (every data-plane request), and resolving it
    # after the UI and API includes tried ~30 patterns on every call.
    path("", include("apps.decisions.api.urls")),
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("", RedirectView.as_view(pattern_name="catalog:dataset-list", permanent=False)),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("catalog/", include("apps.catalog.urls")),
    path("audit/", include("apps.audit.urls")),
    path("decisions/explorer/", decision_views.explorer, name="decision-explorer"),
    path("decisions/credentials/", decision_views.credentials, name="decision-credentials"),
    path("decisions/packages/", decision_views.policy_packages, name="decision-packages"),
    path(
        "api/v1/decisions/packages/",
        PolicyPackagesApi.as_view(),
        name="decision-packages-api",
    ),
    path(
        "api/v1/decisions/packages/<str:name>/",
        PolicyPackageApi.as_view(),
        name="decision-package-api",
    ),
    path("api/v1/", include("apps.catalog.api.urls")),
    path("api/v1/", include("apps.classification.api.urls")),
    path("api/v1/", include("apps.audit.api.urls")),
    path("api/v1/", include("apps.access.api.urls")),
    path("access/", include("apps.access.urls")),
    path("reviews/", include("apps.reviews.urls")),
    path("api/v1/", include("apps.reviews.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    path("admin/", admin.site.urls),
]
