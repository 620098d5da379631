from django.urls import path

from apps.decisions.api import views

urlpatterns = [
    path("access/v1/evaluation", views.EvaluationApi.as_view(), name="access-evaluation"),
    path("access/v1/evaluations", views.EvaluationsApi.as_view(), name="access-evaluations"),
    path("logs", views.DecisionLogUploadApi.as_view(), name="decision-log-upload"),
    path("bundles/<str:name>.tar.gz", views.BundleDownloadApi.as_view(), name="bundle-download"),
    path(
        ".well-known/authzen-configuration",
        views.ConfigurationApi.as_view(),
        name="authzen-configuration",
    ),
]
