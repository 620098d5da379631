from django.urls import path

from apps.access.api import views

app_name = "access-api"

urlpatterns = [
    path("access/requests/", views.AccessRequestsApi.as_view(), name="requests"),
    path("access/requests/<int:pk>/", views.AccessRequestApi.as_view(), name="request"),
    path(
        "access/requests/<int:pk>/decision/",
        views.AccessRequestDecisionApi.as_view(),
        name="request-decision",
    ),
    path(
        "access/requests/<int:pk>/cancel/",
        views.AccessRequestCancelApi.as_view(),
        name="request-cancel",
    ),
    path("access/grants/", views.GrantsApi.as_view(), name="grants"),
    path("access/grants/<int:pk>/revoke/", views.GrantRevokeApi.as_view(), name="grant-revoke"),
    path("access/break-glass/", views.BreakGlassOpenApi.as_view(), name="break-glass"),
    path(
        "access/break-glass/reviews/",
        views.BreakGlassReviewsApi.as_view(),
        name="break-glass-reviews",
    ),
    path(
        "access/break-glass/reviews/<int:pk>/",
        views.BreakGlassReviewApi.as_view(),
        name="break-glass-review",
    ),
    path("access/roles/", views.RolesApi.as_view(), name="roles"),
    path("access/bindings/", views.RoleBindingsApi.as_view(), name="bindings"),
    path("access/bindings/<int:pk>/", views.RoleBindingApi.as_view(), name="binding"),
]
