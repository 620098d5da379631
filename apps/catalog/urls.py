from django.urls import path

from apps.catalog import views

app_name = "catalog"

urlpatterns = [
    path("", views.dataset_list_view, name="dataset-list"),
    path("datasets/<int:pk>/", views.dataset_detail_view, name="dataset-detail"),
    path("datasets/<int:pk>/edit/", views.dataset_edit_view, name="dataset-edit"),
    path(
        "datasets/<int:pk>/columns/classify/",
        views.columns_bulk_classify_view,
        name="columns-bulk-classify",
    ),
    path("columns/<int:pk>/classify/", views.column_classify_view, name="column-classify"),
    path("suggestions/", views.suggestion_queue_view, name="suggestion-list"),
    path(
        "suggestions/<int:pk>/<str:decision>/",
        views.suggestion_decide_view,
        name="suggestion-decide",
    ),
    path("sources/", views.source_list_view, name="source-list"),
    path("sources/<int:pk>/", views.source_detail_view, name="source-detail"),
    path("sources/<int:pk>/<str:operation>/", views.source_operation_view, name="source-operation"),
]
