"""Reads of the catalog. Every user-reachable read narrows to what ``actor`` may see."""

import copy
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.db.models import Count, F, Lookup, Prefetch, Q, QuerySet, Subquery

from apps.catalog import permissions
from apps.catalog.models import (
    ClassificationSuggestion,
    Column,
    Dataset,
    DatasetGroupObjectPermission,
    DatasetUserObjectPermission,
    DataSource,
    LineageEdge,
)
from apps.classification.models import SensitivityLevel
from apps.core.errors import NotFound, PermissionDenied

User = get_user_model()


class _EqualsAny(Lookup):
    """``lhs = ANY(rhs)`` where ``rhs`` is a Postgres array."""

    lookup_name = "equals_any"

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} = ANY({rhs})", [*lhs_params, *rhs_params]


def _pk_in(ids: QuerySet[Any]) -> Q:
    """``pk IN (ids)``; on Postgres written ``pk = ANY(ARRAY(ids))`` (same rows).

    Inside an OR, Postgres can neither index ``IN (subquery)`` nor estimate it (it counts it as
    half the table), so a narrowed list walked the whole ``fqn`` index for a rare match or a
    deep page. An array computed once is an index condition, and the OR becomes a BitmapOr.
    """
    if connection.vendor != "postgresql":
        return Q(pk__in=ids)
    from django.contrib.postgres.expressions import ArraySubquery

    return Q(_EqualsAny(F("pk"), ArraySubquery(ids)))


def dataset_visible(*, actor: Any) -> QuerySet[Dataset]:
    """Datasets ``actor`` may see (see ``permissions`` for the rules)."""
    qs = Dataset.objects.all()
    if not getattr(actor, "is_authenticated", False) or not actor.is_active:
        return qs.none()
    if actor.has_perm(permissions.VIEW_DATASET) or actor.has_perm(permissions.CHANGE_DATASET):
        return qs
    group_ids = list(actor.groups.values_list("id", flat=True))
    perm_ids = Permission.objects.filter(
        content_type__app_label="catalog", codename__in=["view_dataset", "change_dataset"]
    ).values("id")
    user_grants = DatasetUserObjectPermission.objects.filter(
        user=actor, permission_id__in=perm_ids
    ).values("content_object_id")
    group_grants = DatasetGroupObjectPermission.objects.filter(
        group_id__in=group_ids, permission_id__in=perm_ids
    ).values("content_object_id")
    rule = Q(owner=actor) | Q(steward=actor) | _pk_in(user_grants)
    if group_ids:
        rule |= (
            Q(owner_group_id__in=group_ids)
            | Q(steward_group_id__in=group_ids)
            | _pk_in(group_grants)
        )
    return qs.filter(rule)


@dataclass(frozen=True)
class DatasetFilters:
    q: str = ""
    source: str = ""  # source name
    sensitivity: str = ""  # effective sensitivity key
    category: str = ""  # data category key, on the dataset or any live column
    owner: str = ""  # username or group name (owner or steward)
    tag: str = ""
    unclassified: bool = False
    include_removed: bool = False


def _pk_of(qs: QuerySet[Any]) -> Subquery:
    """The id of the one row ``qs`` finds (it filters on a unique field), as a scalar subquery.

    Comparing a foreign key with it (rather than joining and filtering on the far table) lets
    Postgres resolve the id once and use the foreign-key indexes: ``(source_id, fqn)`` returns
    the first page already in order, and the owner filter becomes four index lookups.
    """
    return Subquery(qs.values("pk")[:1])


def dataset_list(*, actor: Any, filters: DatasetFilters | None = None) -> QuerySet[Dataset]:
    f = filters or DatasetFilters()
    qs = dataset_visible(actor=actor)
    if not f.include_removed:
        qs = qs.filter(removed_at__isnull=True)
    if f.q:
        qs = qs.filter(Q(fqn__icontains=f.q) | Q(description__icontains=f.q))
    if f.source:
        qs = qs.filter(source_id=_pk_of(DataSource.objects.filter(name=f.source)))
    if f.sensitivity:
        qs = qs.filter(
            effective_sensitivity_id=_pk_of(SensitivityLevel.objects.filter(key=f.sensitivity))
        )
    if f.unclassified:
        qs = qs.filter(effective_sensitivity__isnull=True)
    if f.category:
        # Uncorrelated ``IN`` lists: each is computed once (from the category's index), where a
        # correlated EXISTS per dataset made Postgres estimate (and JIT-compile) a huge plan.
        dataset_has = Dataset.categories.through.objects.filter(
            datacategory__key=f.category
        ).values("dataset_id")
        column_has = Column.categories.through.objects.filter(
            column__removed_at__isnull=True, datacategory__key=f.category
        ).values("column__dataset_id")
        qs = qs.filter(Q(pk__in=dataset_has) | Q(pk__in=column_has))
    if f.owner:
        user_id = _pk_of(User.objects.filter(username=f.owner))
        group_id = _pk_of(Group.objects.filter(name=f.owner))
        qs = qs.filter(
            Q(owner_id=user_id)
            | Q(steward_id=user_id)
            | Q(owner_group_id=group_id)
            | Q(steward_group_id=group_id)
        )
    if f.tag:
        qs = qs.filter(tags__key=f.tag)
    return qs.select_related(
        "source", "owner", "owner_group", "steward", "steward_group", "effective_sensitivity"
    ).prefetch_related("tags")


def dataset_get(*, actor: Any, pk: int) -> Dataset:
    """One dataset ``actor`` may see; missing and forbidden both raise ``NotFound``."""
    dataset = (
        dataset_visible(actor=actor)
        .select_related(
            "source",
            "owner",
            "owner_group",
            "steward",
            "steward_group",
            "sensitivity",
            "effective_sensitivity",
        )
        .prefetch_related("tags", "categories")
        .filter(pk=pk)
        .first()
    )
    if dataset is None:
        raise NotFound("No dataset with that id.")
    return dataset


def dataset_get_by_fqn(*, actor: Any, fqn: str) -> Dataset:
    dataset = dataset_visible(actor=actor).filter(fqn=fqn).first()
    if dataset is None:
        raise NotFound(f"No dataset named {fqn!r}.")
    return dataset


def dataset_get_for_change(*, actor: Any, pk: int, lock: bool = False) -> Dataset:
    """A dataset ``actor`` may edit. Invisible: ``NotFound``; visible but read-only: ``PermissionDenied``."""
    dataset = dataset_get(actor=actor, pk=pk)
    if lock:
        dataset = Dataset.objects.select_for_update().get(pk=dataset.pk)
    if not permissions.can_change_dataset(actor, dataset):
        raise PermissionDenied("You may view this dataset but not change it.")
    return dataset


def column_list(*, dataset: Dataset, include_removed: bool = False) -> QuerySet[Column]:
    """Columns of a dataset the caller already resolved with ``dataset_get``."""
    qs = dataset.columns.all()
    if not include_removed:
        qs = qs.filter(removed_at__isnull=True)
    pending = ClassificationSuggestion.objects.filter(
        status=ClassificationSuggestion.Status.PENDING
    ).select_related("category", "sensitivity")
    return (
        qs.select_related("sensitivity", "classified_by")
        .prefetch_related(
            "categories", Prefetch("suggestions", queryset=pending, to_attr="pending")
        )
        .order_by("ordinal", "name")
    )


def column_get(*, actor: Any, pk: int) -> Column:
    column = (
        Column.objects.select_related("dataset", "sensitivity")
        .filter(pk=pk, dataset__in=dataset_visible(actor=actor))
        .first()
    )
    if column is None:
        raise NotFound("No column with that id.")
    return column


def lineage_neighbours(*, actor: Any, dataset: Dataset) -> dict[str, list[Dataset]]:
    """Direct upstream and downstream datasets that ``actor`` may see."""
    visible = dataset_visible(actor=actor).select_related("effective_sensitivity")
    upstream_ids = LineageEdge.objects.filter(downstream=dataset).values("upstream_id")
    downstream_ids = LineageEdge.objects.filter(upstream=dataset).values("downstream_id")
    return {
        "upstream": list(visible.filter(pk__in=upstream_ids).order_by("fqn")[:50]),
        "downstream": list(visible.filter(pk__in=downstream_ids).order_by("fqn")[:50]),
    }


def lineage_edges(*, actor: Any, dataset: Dataset, limit: int = 50) -> dict[str, list[LineageEdge]]:
    """Direct lineage edges of ``dataset`` whose other end ``actor`` may see (with edge ids)."""
    visible = dataset_visible(actor=actor)
    upstream = (
        LineageEdge.objects.filter(downstream=dataset, upstream__in=visible)
        .select_related("upstream__effective_sensitivity")
        .order_by("upstream__fqn")
    )
    downstream = (
        LineageEdge.objects.filter(upstream=dataset, downstream__in=visible)
        .select_related("downstream__effective_sensitivity")
        .order_by("downstream__fqn")
    )
    return {"upstream": list(upstream[:limit]), "downstream": list(downstream[:limit])}


def lineage_edge_get(*, actor: Any, pk: int) -> LineageEdge:
    """One edge whose both ends ``actor`` may see; otherwise ``NotFound``."""
    visible = dataset_visible(actor=actor)
    edge = (
        LineageEdge.objects.select_related("upstream", "downstream")
        .filter(pk=pk, upstream__in=visible, downstream__in=visible)
        .first()
    )
    if edge is None:
        raise NotFound("No lineage edge with that id.")
    return edge


def suggestion_list(
    *,
    actor: Any,
    status: str = ClassificationSuggestion.Status.PENDING,
    dataset: Dataset | None = None,
) -> QuerySet[ClassificationSuggestion]:
    qs = ClassificationSuggestion.objects.filter(column__dataset__in=dataset_visible(actor=actor))
    if status:
        qs = qs.filter(status=status)
    if dataset is not None:
        qs = qs.filter(column__dataset=dataset)
    return qs.select_related(
        "column", "column__dataset", "category", "sensitivity", "decided_by"
    ).order_by("-confidence", "id")


def suggestion_get(*, actor: Any, pk: int) -> ClassificationSuggestion:
    suggestion = suggestion_list(actor=actor, status="").filter(pk=pk).first()
    if suggestion is None:
        raise NotFound("No suggestion with that id.")
    return suggestion


def source_visible(*, actor: Any) -> QuerySet[DataSource]:
    """Sources: all of them for catalog admins, else those holding a dataset ``actor`` can see."""
    qs = DataSource.objects.all()
    if not getattr(actor, "is_authenticated", False) or not actor.is_active:
        return qs.none()
    if actor.has_perm(permissions.VIEW_SOURCE) or actor.has_perm(permissions.MANAGE_SOURCES):
        return qs
    return qs.filter(pk__in=dataset_visible(actor=actor).values("source_id"))


def source_list(*, actor: Any) -> QuerySet[DataSource]:
    return (
        source_visible(actor=actor)
        .select_related("owner")
        .annotate(dataset_count=Count("datasets", filter=Q(datasets__removed_at__isnull=True)))
        .order_by("name")
    )


def source_get(*, actor: Any, pk: int) -> DataSource:
    source = source_visible(actor=actor).filter(pk=pk).first()
    if source is None:
        raise NotFound("No data source with that id.")
    return source


def source_get_by_name(*, actor: Any, name: str) -> DataSource:
    source = source_visible(actor=actor).filter(name=name).first()
    if source is None:
        raise NotFound(f"No data source named {name!r}.")
    return source


def source_get_for_manage(*, actor: Any, pk: int) -> DataSource:
    source = source_get(actor=actor, pk=pk)
    if not permissions.can_manage_sources(actor):
        raise PermissionDenied("Managing data sources needs the catalog admin role.")
    return source


HIDDEN_DATASET = "(a dataset you cannot see)"
_LINEAGE_ACTIONS = ("catalog.lineage.", "catalog.column_lineage.")


def dataset_history(*, actor: Any, dataset: Dataset, limit: int = 100) -> list[Any]:
    """A dataset's recorded changes, newest first, as ``actor`` may read them.

    Lineage entries name the dataset at the other end of the edge; where ``actor`` cannot see
    that dataset, its name (or its column's) reads ``HIDDEN_DATASET`` instead. The entries
    themselves are never changed: only the copies handed to the page are.
    """
    from apps.audit.selectors import audit_history_for

    events = list(
        audit_history_for(scope_label=Dataset._meta.label_lower, scope_id=dataset.pk, limit=limit)
    )
    lineage = [e for e in events if e.action.startswith(_LINEAGE_ACTIONS)]
    if not lineage:
        return events

    def texts(event: Any) -> list[str]:
        edge = event.changes.get("edge") if isinstance(event.changes, dict) else None
        values = list(edge.values()) if isinstance(edge, dict) else []
        return [t for t in [event.target_repr, *values] if isinstance(t, str)]

    sides = {side for e in lineage for t in texts(e) for side in t.split(" -> ")}
    names = sides | {side.rsplit(".", 1)[0] for side in sides}
    visible = set(dataset_visible(actor=actor).filter(fqn__in=names).values_list("fqn", flat=True))

    def redact(text: Any) -> Any:
        if not isinstance(text, str):
            return text
        return " -> ".join(
            s if s in visible or s.rsplit(".", 1)[0] in visible else HIDDEN_DATASET
            for s in text.split(" -> ")
        )

    for event in lineage:
        payload = copy.deepcopy(event.payload)
        edge = payload.get("changes", {}).get("edge")
        if isinstance(edge, dict):
            payload["changes"]["edge"] = {k: redact(v) for k, v in edge.items()}
        event.__dict__["payload"] = payload  # the cached parse the ``changes`` property reads
        event.target_repr = redact(event.target_repr)
    return events
