from django.urls import path

from apps.catalog.api import views
from apps.core.api.schema import one_url

app_name = "catalog-api"

urlpatterns = [
    path(
        "sources/",
        one_url("SourcesApi", views.SourceListApi, views.SourceCreateApi).as_view(),
        name="sources",
    ),
    path(
        "sources/<int:pk>/",
        one_url("SourceApi", views.SourceDetailApi, views.SourceUpdateApi).as_view(),
        name="source",
    ),
    path(
        "datasets/",
        one_url("DatasetsApi", views.DatasetListApi, views.DatasetCreateApi).as_view(),
        name="datasets",
    ),
    path(
        "datasets/by-fqn/<path:fqn>/",
        views.DatasetByFqnApi.as_view(),
        name="dataset-by-fqn",
    ),
    path(
        "datasets/<int:pk>/",
        one_url("DatasetApi", views.DatasetDetailApi, views.DatasetUpdateApi).as_view(),
        name="dataset",
    ),
    path(
        "datasets/<int:pk>/columns/",
        views.DatasetColumnListApi.as_view(),
        name="dataset-columns",
    ),
    path(
        "datasets/<int:pk>/lineage/",
        views.DatasetLineageApi.as_view(),
        name="dataset-lineage",
    ),
    path(
        "datasets/<int:pk>/history/",
        views.DatasetHistoryApi.as_view(),
        name="dataset-history",
    ),
    path(
        "datasets/<int:pk>/viewers/",
        views.DatasetViewerAddApi.as_view(),
        name="dataset-viewers",
    ),
    path(
        "datasets/<int:pk>/viewers/<str:kind>/<str:name>/",
        views.DatasetViewerRemoveApi.as_view(),
        name="dataset-viewer",
    ),
    path("columns/bulk-classify", views.ColumnBulkClassifyApi.as_view(), name="columns-bulk"),
    path("columns/<int:pk>/", views.ColumnUpdateApi.as_view(), name="column"),
    path("lineage/", views.LineageEdgeCreateApi.as_view(), name="lineage"),
    path("lineage/<int:pk>/", views.LineageEdgeDeleteApi.as_view(), name="lineage-edge"),
    path("column-lineage/", views.ColumnLineageEdgeCreateApi.as_view(), name="column-lineage"),
    path("suggestions/", views.SuggestionListApi.as_view(), name="suggestions"),
    path(
        "suggestions/<int:pk>/accept",
        views.SuggestionAcceptApi.as_view(),
        name="suggestion-accept",
    ),
    path(
        "suggestions/<int:pk>/reject",
        views.SuggestionRejectApi.as_view(),
        name="suggestion-reject",
    ),
]
