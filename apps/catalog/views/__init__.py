"""Server-rendered catalog UI. Views stay thin: selectors read (narrowed to the user), services
write (they check permission, validate and audit); a service's refusal is shown, never a 500."""

from apps.catalog.views.datasets import (
    column_classify_view,
    columns_bulk_classify_view,
    dataset_detail_view,
    dataset_edit_view,
    dataset_list_view,
)
from apps.catalog.views.sources import (
    source_detail_view,
    source_list_view,
    source_operation_view,
)
from apps.catalog.views.suggestions import suggestion_decide_view, suggestion_queue_view

__all__ = [
    "column_classify_view",
    "columns_bulk_classify_view",
    "dataset_detail_view",
    "dataset_edit_view",
    "dataset_list_view",
    "source_detail_view",
    "source_list_view",
    "source_operation_view",
    "suggestion_decide_view",
    "suggestion_queue_view",
]
