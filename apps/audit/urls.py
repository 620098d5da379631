from django.urls import path

from apps.audit import views

app_name = "audit"

urlpatterns = [
    path("", views.event_list, name="event-list"),
    path("export.csv", views.export, {"fmt": "csv"}, name="export-csv"),
    path("export.jsonl", views.export, {"fmt": "jsonl"}, name="export-jsonl"),
    path("checkpoints/", views.checkpoint_list, name="checkpoint-list"),
    path("public-key.pem", views.public_key, name="public-key"),
    path("<int:entry_id>/", views.event_detail, name="event-detail"),
    path("<int:entry_id>/proof.json", views.event_proof, name="event-proof"),
]
