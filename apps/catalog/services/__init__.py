"""Every write to the catalog goes through these functions (each records its audit entry)."""

from apps.catalog.services.columns import column_classify, columns_bulk_classify
from apps.catalog.services.common import dataset_refresh_effective_sensitivity
from apps.catalog.services.datasets import (
    UNSET,
    dataset_create,
    dataset_update,
    dataset_viewer_add,
    dataset_viewer_remove,
)
from apps.catalog.services.lineage import (
    column_lineage_edge_create,
    lineage_edge_create,
    lineage_edge_delete,
)
from apps.catalog.services.scanning import source_scan, source_scan_request
from apps.catalog.services.sources import source_create, source_password, source_update
from apps.catalog.services.suggestions import suggestion_accept, suggestion_reject
from apps.catalog.services.sync import source_sync, source_sync_request, sources_due_for_refresh

__all__ = [
    "UNSET",
    "column_classify",
    "column_lineage_edge_create",
    "columns_bulk_classify",
    "dataset_create",
    "dataset_refresh_effective_sensitivity",
    "dataset_update",
    "dataset_viewer_add",
    "dataset_viewer_remove",
    "lineage_edge_create",
    "lineage_edge_delete",
    "source_create",
    "source_password",
    "source_scan",
    "source_scan_request",
    "source_sync",
    "source_sync_request",
    "source_update",
    "sources_due_for_refresh",
    "suggestion_accept",
    "suggestion_reject",
]
