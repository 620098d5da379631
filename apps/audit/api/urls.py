from django.urls import path

from apps.audit.api import views

urlpatterns = [
    path("audit/events/", views.AuditEventListApi.as_view(), name="api-audit-events"),
    path(
        "audit/events/<int:entry_id>/", views.AuditEventDetailApi.as_view(), name="api-audit-event"
    ),
    path(
        "audit/events/<int:entry_id>/proof",
        views.AuditEventProofApi.as_view(),
        name="api-audit-event-proof",
    ),
    path("audit/checkpoints/", views.AuditCheckpointsApi.as_view(), name="api-audit-checkpoints"),
    path("audit/public-key", views.AuditPublicKeyApi.as_view(), name="api-audit-public-key"),
]
