"""The catalog UI through Django's test client: access, refusals, writes and query counts."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.catalog.models import ClassificationSuggestion, DataSource
from apps.classification.models import Tag
from tests.factories import ColumnFactory, DatasetFactory

pytestmark = pytest.mark.django_db


def _pages(dataset):
    return [
        reverse("catalog:dataset-list"),
        reverse("catalog:dataset-detail", args=[dataset.pk]),
        reverse("catalog:dataset-edit", args=[dataset.pk]),
        reverse("catalog:source-list"),
        reverse("catalog:source-detail", args=[dataset.source.pk]),
        reverse("catalog:suggestion-list"),
    ]


def test_anonymous_is_sent_to_sign_in(client, dataset):
    for url in _pages(dataset):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login")), url


def test_owner_reaches_every_page(client_for, owner, dataset, suggestion):
    client = client_for(owner)
    for url in _pages(dataset):
        assert client.get(url).status_code == 200, url


def test_sign_in_page_and_root_redirect(client, owner):
    assert client.get(reverse("login")).status_code == 200
    client.force_login(owner)
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == reverse("catalog:dataset-list")


def test_list_shows_only_visible_datasets(client_for, stranger, dataset):
    DatasetFactory(source=dataset.source, table_name="hidden")
    body = client_for(stranger).get(reverse("catalog:dataset-list")).content.decode()
    assert "crm.public.customers" not in body
    assert "crm.public.hidden" not in body


def test_list_filters_by_sensitivity(client_for, owner, dataset):
    other = DatasetFactory(source=dataset.source, table_name="orders", owner=owner)
    from apps.catalog import services

    services.dataset_update(actor=owner, dataset=other, sensitivity="restricted")
    client = client_for(owner)
    body = client.get(reverse("catalog:dataset-list"), {"sensitivity": "restricted"}).content
    assert b"crm.public.orders" in body
    assert b"crm.public.customers" not in body
    body = client.get(reverse("catalog:dataset-list"), {"unclassified": "on"}).content
    assert b"crm.public.customers" in body
    assert b"crm.public.orders" not in body


def test_list_ignores_unknown_filter_values(client_for, owner, dataset):
    response = client_for(owner).get(reverse("catalog:dataset-list"), {"sensitivity": "bogus"})
    assert response.status_code == 200


@pytest.mark.parametrize(
    "name",
    ["dataset-detail", "dataset-edit"],
    ids=["detail page", "edit page"],
)
def test_stranger_gets_404(client_for, stranger, dataset, name):
    assert (
        client_for(stranger).get(reverse(f"catalog:{name}", args=[dataset.pk])).status_code == 404
    )


def test_missing_dataset_is_404(client_for, admin):
    assert (
        client_for(admin).get(reverse("catalog:dataset-detail", args=[999999])).status_code == 404
    )


def test_stranger_cannot_post_anything(client_for, stranger, dataset, suggestion):
    client = client_for(stranger)
    column = dataset.columns.get(name="email")
    posts = [
        (reverse("catalog:dataset-edit", args=[dataset.pk]), {"description": "x"}),
        (reverse("catalog:column-classify", args=[column.pk]), {f"col{column.pk}-sensitivity": "restricted"}),
        (reverse("catalog:columns-bulk-classify", args=[dataset.pk]), {"column_ids": [column.pk], "sensitivity": "restricted"}),
        (reverse("catalog:suggestion-decide", args=[suggestion.pk, "accept"]), {}),
    ]  # fmt: skip
    for url, data in posts:
        assert client.post(url, data).status_code == 404, url
    column.refresh_from_db()
    suggestion.refresh_from_db()
    assert column.sensitivity is None
    assert suggestion.status == ClassificationSuggestion.Status.PENDING
    assert (
        not AuditEvent.objects.filter(actor=stranger).exclude(action__startswith="auth.").exists()
    )


def test_viewer_sees_dataset_without_edit_controls(client_for, viewer, dataset, suggestion):
    body = client_for(viewer).get(reverse("catalog:dataset-detail", args=[dataset.pk])).content
    assert b"crm.public.customers" in body
    assert b"Edit dataset" not in body
    assert b"bulk-form" not in body
    assert b">Accept<" not in body


def test_viewer_edits_are_refused_and_change_nothing(client_for, viewer, dataset, suggestion):
    client = client_for(viewer)
    column = dataset.columns.get(name="email")
    edit = client.post(
        reverse("catalog:dataset-edit", args=[dataset.pk]), {"description": "hijacked"}
    )
    classify = client.post(
        reverse("catalog:column-classify", args=[column.pk]),
        {f"col{column.pk}-sensitivity": "restricted"},
    )
    bulk = client.post(
        reverse("catalog:columns-bulk-classify", args=[dataset.pk]),
        {"column_ids": [column.pk], "sensitivity": "restricted"},
    )
    accept = client.post(reverse("catalog:suggestion-decide", args=[suggestion.pk, "accept"]))
    assert [edit.status_code, classify.status_code, bulk.status_code, accept.status_code] == [
        403,
        403,
        403,
        403,
    ]
    assert b"not classify" in classify.content
    dataset.refresh_from_db()
    column.refresh_from_db()
    suggestion.refresh_from_db()
    assert dataset.description == ""
    assert column.sensitivity is None
    assert suggestion.status == ClassificationSuggestion.Status.PENDING
    assert not AuditEvent.objects.filter(actor=viewer).exclude(action__startswith="auth.").exists()


def test_owner_classifies_a_column(client_for, owner, dataset):
    column = dataset.columns.get(name="email")
    response = client_for(owner).post(
        reverse("catalog:column-classify", args=[column.pk]),
        {f"col{column.pk}-sensitivity": "confidential", f"col{column.pk}-categories": ["contact"]},
    )
    assert response.status_code == 302
    column.refresh_from_db()
    dataset.refresh_from_db()
    assert column.sensitivity.key == "confidential"
    assert [c.key for c in column.categories.all()] == ["contact"]
    assert dataset.effective_sensitivity.key == "confidential"


def test_bulk_classify_without_columns_is_a_400_with_message(client_for, owner, dataset):
    response = client_for(owner).post(
        reverse("catalog:columns-bulk-classify", args=[dataset.pk]), {"sensitivity": "internal"}
    )
    assert response.status_code == 400
    assert b"Select at least one column." in response.content


def test_bulk_classify(client_for, owner, dataset):
    ids = list(dataset.columns.values_list("pk", flat=True))
    response = client_for(owner).post(
        reverse("catalog:columns-bulk-classify", args=[dataset.pk]),
        {"column_ids": ids[:2], "sensitivity": "internal", "add_categories": ["business"]},
    )
    assert response.status_code == 302
    classified = dataset.columns.filter(sensitivity__key="internal")
    assert sorted(classified.values_list("pk", flat=True)) == sorted(ids[:2])


def test_edit_with_unknown_owner_shows_field_error_and_saves_nothing(client_for, owner, dataset):
    response = client_for(owner).post(
        reverse("catalog:dataset-edit", args=[dataset.pk]),
        {"description": "changed", "owner": "nobody-by-that-name", "sensitivity": "internal"},
    )
    assert response.status_code == 400
    form = response.context["form"]
    assert "owner" in form.errors
    assert "nobody-by-that-name" in form.errors["owner"][0]
    dataset.refresh_from_db()
    assert dataset.description == ""
    assert dataset.owner == owner
    assert dataset.sensitivity is None


def test_edit_saves_and_records_history(client_for, owner, dataset):
    Tag.objects.create(key="gdpr")
    response = client_for(owner).post(
        reverse("catalog:dataset-edit", args=[dataset.pk]),
        {
            "description": "All customers",
            "owner": "olivia",
            "sensitivity": "internal",
            "categories": ["personal"],
            "tags": ["gdpr"],
        },
    )
    assert response.status_code == 302
    dataset.refresh_from_db()
    assert dataset.description == "All customers"
    assert dataset.effective_sensitivity.key == "internal"
    page = client_for(owner).get(reverse("catalog:dataset-detail", args=[dataset.pk]))
    assert b"dataset update" in page.content
    assert b"All customers" in page.content


def test_accept_and_reject_suggestions(client_for, owner, dataset, suggestion):
    client = client_for(owner)
    response = client.post(reverse("catalog:suggestion-decide", args=[suggestion.pk, "accept"]))
    assert response.status_code == 302
    suggestion.refresh_from_db()
    assert suggestion.status == ClassificationSuggestion.Status.ACCEPTED
    again = client.post(reverse("catalog:suggestion-decide", args=[suggestion.pk, "reject"]))
    assert again.status_code == 409
    assert b"already accepted" in again.content


def test_unknown_decision_is_404(client_for, owner, suggestion):
    url = reverse("catalog:suggestion-decide", args=[suggestion.pk, "maybe"])
    assert client_for(owner).post(url).status_code == 404


def test_suggestion_next_must_stay_on_site(client_for, owner, suggestion):
    response = client_for(owner).post(
        reverse("catalog:suggestion-decide", args=[suggestion.pk, "reject"]),
        {"next": "https://evil.example/"},
    )
    assert response["Location"] == reverse("catalog:suggestion-list")


def test_register_source_never_echoes_the_password(client_for, admin):
    client = client_for(admin)
    secret = "s3cret-Pa55word"
    bad = client.post(
        reverse("catalog:source-list"),
        {"name": "Bad Name!", "kind": "postgres", "password": secret},
    )
    assert bad.status_code == 400
    assert secret.encode() not in bad.content
    assert not DataSource.objects.exists()
    ok = client.post(
        reverse("catalog:source-list"),
        {"name": "erp", "kind": "postgres", "host": "erp.internal", "password": secret},
    )
    assert ok.status_code == 302
    source = DataSource.objects.get(name="erp")
    assert source.has_password
    detail = client.get(ok["Location"])
    assert secret.encode() not in detail.content
    assert b"stored (encrypted, never shown)" in detail.content


def test_only_catalog_admins_may_register_sources(client_for, owner, dataset):
    client = client_for(owner)
    page = client.get(reverse("catalog:source-list"))
    assert b"Register source" not in page.content
    response = client.post(reverse("catalog:source-list"), {"name": "erp", "kind": "postgres"})
    assert response.status_code == 403
    assert not DataSource.objects.filter(name="erp").exists()


def test_stranger_cannot_see_source(client_for, stranger, dataset):
    url = reverse("catalog:source-detail", args=[dataset.source.pk])
    assert client_for(stranger).get(url).status_code == 404


def _make_datasets(owner, source, n, start):
    tag = Tag.objects.get_or_create(key="gold")[0]
    for i in range(start, start + n):
        ds = DatasetFactory(source=source, table_name=f"t{i:03d}", owner=owner)
        ds.tags.add(tag)
        ColumnFactory(dataset=ds)
        ColumnFactory(dataset=ds)


def test_list_query_count_does_not_grow_with_datasets(
    client_for, owner, dataset, django_assert_num_queries
):
    client = client_for(owner)
    _make_datasets(owner, dataset.source, 4, 0)  # 5 with the fixture's
    client.get(reverse("catalog:dataset-list"))  # warm the session
    with CaptureQueriesContext(connection) as five:
        assert client.get(reverse("catalog:dataset-list")).status_code == 200
    _make_datasets(owner, dataset.source, 35, 100)  # 40
    with django_assert_num_queries(len(five)):
        response = client.get(reverse("catalog:dataset-list"))
    assert len(response.context["datasets"]) == 40


def test_sync_and_scan_buttons_for_postgres_sources_only(client_for, admin, dataset):
    """ "Sync schema" and "Scan for PII" are offered to catalog admins on PostgreSQL sources."""
    dataset.source.kind = DataSource.Kind.POSTGRES
    dataset.source.last_sync_summary = {"datasets": {"created": 3, "unchanged": 1}}
    dataset.source.last_synced_at = timezone.now()
    dataset.source.save()
    url = reverse("catalog:source-detail", args=[dataset.source.pk])
    body = client_for(admin).get(url).content.decode()
    assert "Sync schema" in body
    assert "Scan for PII" in body
    assert "created 3, unchanged 1" in body
    lake = DataSource.objects.create(name="lake", kind=DataSource.Kind.SNOWFLAKE)
    other = client_for(admin).get(reverse("catalog:source-detail", args=[lake.pk])).content.decode()
    assert "Sync schema" not in other
    assert "PostgreSQL sources only" in other


def test_unknown_source_operation_is_404(client_for, admin, dataset):
    url = reverse("catalog:source-operation", args=[dataset.source.pk, "explode"])
    assert client_for(admin).post(url).status_code == 404


def test_non_admin_cannot_request_a_sync(client_for, owner, dataset):
    url = reverse("catalog:source-operation", args=[dataset.source.pk, "sync"])
    response = client_for(owner).post(url)
    assert response.status_code == 403
    assert not AuditEvent.objects.filter(action__startswith="catalog.source.sync").exists()


@pytest.mark.parametrize(
    ("operation", "action"),
    [
        ("sync", "catalog.source.sync_requested"),
        ("scan", "catalog.source.scan_requested"),
    ],
    ids=["sync schema", "scan for PII"],
)
def test_admin_queues_a_source_operation(client_for, admin, dataset, operation, action):
    """The task is dispatched on commit; test transactions never commit, so no broker is needed."""
    url = reverse("catalog:source-operation", args=[dataset.source.pk, operation])
    response = client_for(admin).post(url)
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action=action, target_id=str(dataset.source.pk)).exists()


def test_unsupported_source_operation_is_a_readable_refusal(client_for, admin):
    source = DataSource.objects.create(name="lake", kind=DataSource.Kind.SNOWFLAKE)
    url = reverse("catalog:source-operation", args=[source.pk, "sync"])
    response = client_for(admin).post(url)
    assert response.status_code == 400
    assert b"PostgreSQL sources only" in response.content


def test_the_usage_policy_is_edited_on_the_edit_page_and_shown(client_for, owner, dataset):
    from django.contrib.auth.models import Group

    ColumnFactory(dataset=dataset, name="region")
    Group.objects.create(name="emea")
    client = client_for(owner)
    url = reverse("catalog:dataset-edit", args=[dataset.pk])
    page = client.get(url).content.decode()
    assert '<option value="region">region</option>' in page

    response = client.post(
        url,
        {
            "owner": "olivia",  # the form posts every field: an empty owner would clear it
            "purposes": "support, billing",
            "row_filter_column": "region",
            "row_filter_rules": "group:emea = EU, UK\n\nuser:olivia = US\n",
        },
    )
    assert response.status_code == 302
    dataset.refresh_from_db()
    assert dataset.purposes == ["billing", "support"]
    assert [r["values"] for r in dataset.row_filter["rules"]] == [["EU", "UK"], ["US"]]
    detail = client.get(reverse("catalog:dataset-detail", args=[dataset.pk])).content.decode()
    assert '<span class="pill">billing</span>' in detail
    assert "group emea sees EU, UK" in detail
    again = client.get(url).content.decode()
    assert "group:emea = EU, UK\nuser:olivia = US" in again  # the form shows what is stored


@pytest.mark.parametrize(
    ("rules", "column", "field", "message"),
    [
        ("emea EU", "region", "row_filter_rules", "Line 1: write group:<name> = values"),
        ("group:nobody = EU", "region", "row_filter_rules", "Unknown group 'nobody'"),
        ("group:emea =", "region", "row_filter_rules", "A list of 1 to 100 values"),
        ("group:emea = EU", "", "row_filter_column", "Choose the column"),
        ("group:emea = EU", "gone", "row_filter_column", "Select a valid choice"),
    ],
    ids=["not-a-rule", "unknown-group", "no-values", "no-column", "column-not-offered"],
)
def test_a_bad_row_filter_is_shown_at_its_field_and_saves_nothing(
    client_for, owner, dataset, rules, column, field, message
):
    from django.contrib.auth.models import Group

    ColumnFactory(dataset=dataset, name="region")
    Group.objects.create(name="emea")
    response = client_for(owner).post(
        reverse("catalog:dataset-edit", args=[dataset.pk]),
        {"description": "changed", "row_filter_column": column, "row_filter_rules": rules},
    )
    assert response.status_code == 400
    errors = response.context["form"].errors[field]
    assert len(errors) == 1
    assert message in errors[0]
    dataset.refresh_from_db()
    assert (dataset.description, dataset.row_filter) == ("", None)


# Where a form goes after it is posted: the form's ``next`` only when it is a path on this site.
# (A bare word such as "true" was looked up as a URL pattern name: a 500. The grant revocation
# followed any ``next``, another site's included.)
NEXT_CASES = [
    ("/catalog/", "/catalog/"),
    ("true", None),
    ("üüü", None),
    ("https://evil.example/", None),
    ("//evil.example/x", None),
    ("", None),
]


@pytest.mark.parametrize(("next_", "expected"), NEXT_CASES)
def test_forms_go_back_only_to_a_path_on_this_site(
    client_for, admin, owner, suggestion, next_, expected
):
    from tests.factories import GrantFactory

    grant = GrantFactory(dataset=suggestion.column.dataset)
    posts = [
        (
            owner,
            reverse("catalog:suggestion-decide", args=[suggestion.pk, "reject"]),
            reverse("catalog:suggestion-list"),
        ),
        (owner, reverse("access:grant-revoke", args=[grant.pk]), reverse("access:mine")),
        (admin, reverse("reviews:decide"), reverse("reviews:home")),
        (admin, reverse("audit:checkpoint-list"), reverse("audit:checkpoint-list")),
    ]
    for user, url, fallback in posts:
        response = client_for(user).post(url, {"next": next_})

        assert response.status_code == 302, url
        assert response["Location"] == (expected or fallback), url
