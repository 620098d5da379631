#!/usr/bin/env python
"""Catalog at scale: seed 100,000 datasets and 1,000,000 columns into Postgres, then time the
catalog's list, search and detail pages (UI and REST) and the selectors behind them.

    python bench/catalog_scale.py                   # seed once (reused afterwards), then time
    python bench/catalog_scale.py --reseed          # drop and recreate the bench database first
    python bench/catalog_scale.py --datasets 5000 --runs 5
    python bench/catalog_scale.py --explain 50      # EXPLAIN ANALYZE every query slower than 50 ms

Times are server time in-process (django.test.Client around the real URL, so middleware, view,
all queries and template rendering / serialization are inside; the network is not). The goal:
every case's p95 under 200 ms. See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import re
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# Bump when the generated data changes shape: a database seeded by an older version is reseeded.
SEED_VERSION = 3
AUDIT_COLUMNS = [
    "created_at",
    "actor_type",
    "actor_id",
    "actor_repr",
    "ip",
    "request_id",
    "action",
    "target_type",
    "target_id",
    "target_repr",
    "scope",
    "outcome",
    "body",
]
BUDGET_MS = 200.0
PAGE_SIZE = 50
# Databases other work uses; this script must never drop them.
PROTECTED = re.compile(r"^(test_)?steward(_sync|_api|_ui)?$")

VIEWER = "bench-viewer"
ADMIN = "bench-admin"
RARE_WORD = "chargeback"  # the one entity only a handful of datasets are named after

# name, kind, schemas, weight
SOURCES = [
    ("crm", "postgres", ["public", "sales", "support"], 20),
    ("billing", "mysql", ["billing", "payments", "ledger"], 15),
    ("warehouse", "snowflake", ["raw", "staging", "mart", "finance"], 30),
    ("analytics", "bigquery", ["events", "product", "marketing"], 20),
    ("datalake", "s3", ["landing", "curated"], 10),
    ("hr", "postgres", ["public", "payroll"], 5),
]
ENTITIES = [
    "customer_orders",
    "purchase_orders",
    "order_items",
    "customers",
    "invoices",
    "payments",
    "refunds",
    "subscriptions",
    "products",
    "inventory_levels",
    "shipments",
    "web_sessions",
    "page_views",
    "ad_clicks",
    "campaign_spend",
    "employees",
    "payroll_runs",
    "timesheets",
    "support_tickets",
    "ticket_comments",
    "leads",
    "opportunities",
    "accounts",
    "contacts",
    "addresses",
    "user_profiles",
    "login_events",
    "device_registry",
    "feature_flags",
    "experiments",
    "churn_scores",
    "ledger_entries",
    "tax_filings",
    "vendor_contracts",
    "warehouse_locations",
    "returns",
    "loyalty_points",
    "gift_cards",
    "email_sends",
    "sms_messages",
    "push_notifications",
    "app_installs",
    "crash_reports",
    "access_logs",
    "price_history",
    "currency_rates",
    "store_locations",
    "delivery_routes",
    "driver_shifts",
    "medical_claims",
    "insurance_policies",
    "benefit_enrollments",
    "background_checks",
]
TEAMS = [
    "data-platform",
    "finance",
    "growth",
    "marketing",
    "sales-ops",
    "support",
    "people",
    "risk",
    "security",
    "product",
    "logistics",
    "billing",
    "analytics",
    "ml",
    "compliance",
    "legal",
    "partnerships",
    "mobile",
    "web",
    "infra",
]
TAGS = [
    "gold",
    "silver",
    "bronze",
    "certified",
    "deprecated",
    "pii",
    "gdpr",
    "sox",
    "hipaa",
    "pci",
    "daily",
    "hourly",
    "streaming",
    "external",
    "partner-shared",
    "experimental",
    "finance",
    "marketing",
    "ml-feature",
    "reporting",
    "raw",
    "derived",
    "backfill",
    "retention-90d",
    "retention-7y",
    "quarantine",
    "kpi",
    "exec-dashboard",
    "sandbox",
    "legacy",
]
PURPOSES = [
    "one row per {e} event, deduplicated",
    "daily snapshot of {e}, partitioned by load date",
    "{e} as received from the upstream system, before cleaning",
    "curated {e} joined with account data for reporting",
    "slowly changing dimension of {e} (type 2)",
    "aggregated {e} per customer and month",
    "{e} exported nightly to the partner SFTP",
]
# Columns: (name, data type); personal-data names carry (category key, sensitivity key).
ColumnSpec = tuple[str, str, str | None, str | None]
GENERIC_COLUMNS = [
    ("created_at", "timestamp"),
    ("updated_at", "timestamp"),
    ("deleted_at", "timestamp"),
    ("status", "varchar(32)"),
    ("amount", "numeric(12,2)"),
    ("currency", "char(3)"),
    ("quantity", "integer"),
    ("unit_price", "numeric(12,2)"),
    ("discount", "numeric(5,2)"),
    ("total", "numeric(14,2)"),
    ("tax", "numeric(12,2)"),
    ("order_id", "bigint"),
    ("customer_id", "bigint"),
    ("account_id", "bigint"),
    ("product_id", "bigint"),
    ("sku", "varchar(64)"),
    ("category", "varchar(64)"),
    ("channel", "varchar(32)"),
    ("campaign_id", "bigint"),
    ("source_system", "varchar(32)"),
    ("region", "varchar(32)"),
    ("country_code", "char(2)"),
    ("locale", "varchar(8)"),
    ("plan", "varchar(32)"),
    ("tier", "varchar(16)"),
    ("score", "double precision"),
    ("is_active", "boolean"),
    ("is_test", "boolean"),
    ("version", "integer"),
    ("event_type", "varchar(64)"),
    ("event_time", "timestamp"),
    ("session_id", "uuid"),
    ("page_url", "text"),
    ("referrer", "text"),
    ("user_agent", "text"),
    ("duration_ms", "integer"),
    ("load_date", "date"),
    ("batch_id", "bigint"),
    ("checksum", "varchar(64)"),
    ("notes", "text"),
    ("priority", "smallint"),
    ("assignee_id", "bigint"),
    ("team_id", "bigint"),
    ("warehouse_id", "bigint"),
    ("carrier", "varchar(32)"),
    ("tracking_code", "varchar(64)"),
    ("shipped_at", "timestamp"),
    ("delivered_at", "timestamp"),
    ("due_date", "date"),
    ("paid_at", "timestamp"),
    ("invoice_number", "varchar(32)"),
    ("ledger_account", "varchar(32)"),
    ("cost_center", "varchar(32)"),
    ("margin", "numeric"),
    ("rating", "smallint"),
    ("comment_count", "integer"),
    ("experiment_id", "bigint"),
    ("variant", "varchar(16)"),
    ("feature_name", "varchar(64)"),
    ("metadata", "jsonb"),
    ("payload", "jsonb"),
    ("external_ref", "varchar(64)"),
    ("approved", "boolean"),
    ("approved_at", "timestamp"),
    ("valid_from", "date"),
    ("valid_to", "date"),
    ("row_hash", "varchar(64)"),
    ("ingested_at", "timestamp"),
]
PERSONAL_COLUMNS: list[tuple[str, str, str, str]] = [
    ("email", "varchar(254)", "contact", "confidential"),
    ("phone", "varchar(32)", "contact", "confidential"),
    ("street_address", "text", "contact", "confidential"),
    ("postal_code", "varchar(16)", "location", "confidential"),
    ("first_name", "varchar(100)", "name", "confidential"),
    ("last_name", "varchar(100)", "name", "confidential"),
    ("ssn", "char(11)", "government-id", "restricted"),
    ("passport_number", "varchar(20)", "government-id", "restricted"),
    ("iban", "varchar(34)", "financial", "restricted"),
    ("card_number", "varchar(19)", "financial", "restricted"),
    ("salary", "numeric(12,2)", "financial", "restricted"),
    ("diagnosis_code", "varchar(16)", "health", "restricted"),
    ("date_of_birth", "date", "demographic", "confidential"),
    ("gender", "varchar(16)", "demographic", "confidential"),
    ("ip_address", "inet", "online-id", "confidential"),
    ("device_id", "varchar(64)", "online-id", "confidential"),
    ("geo_lat", "double precision", "location", "confidential"),
    ("api_token", "varchar(128)", "credentials", "restricted"),
]
SCANNED_SHARE = 0.75  # datasets a scanner/steward went through; the rest are unclassified
PERSONAL_SHARE = 0.245  # share of columns with a personal-data name
PERSONAL_CATEGORISED = 0.92  # of those, in scanned datasets, how many carry their category
GENERIC_SENSITIVE = 0.23  # generic columns in scanned datasets marked internal / public


# ---------------------------------------------------------------------------------------------
# Database lifecycle


def pg_url(base: str, db: str) -> str:
    return f"{base.rstrip('/')}/{db}"


def check_db_name(name: str) -> None:
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name):
        raise SystemExit(f"--db {name!r}: use lowercase letters, digits and '_'.")
    if PROTECTED.match(name) or "bench" not in name:
        raise SystemExit(
            f"--db {name!r}: refusing; the bench database's name must contain 'bench'."
        )


def database_exists(base: str, db: str) -> bool:
    with psycopg.connect(pg_url(base, "postgres"), autocommit=True) as conn:
        return (
            conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db]).fetchone()
            is not None
        )


def recreate_database(base: str, db: str) -> None:
    with psycopg.connect(pg_url(base, "postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(db)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db)))


def seeded_as(base: str, db: str) -> dict[str, Any] | None:
    """What the bench database holds, from the row the seeder writes last (None: not seeded)."""
    with psycopg.connect(pg_url(base, db), autocommit=True) as conn:
        if conn.execute("SELECT to_regclass('bench_seed_info')").fetchone() == (None,):
            return None
        row = conn.execute("SELECT info FROM bench_seed_info").fetchone()
        return row[0] if row else None


# ---------------------------------------------------------------------------------------------
# Seeding (COPY)


@dataclass
class Plan:
    datasets: int
    columns_per_dataset: int
    seed: int

    def as_info(self) -> dict[str, Any]:
        return {
            "version": SEED_VERSION,
            "datasets": self.datasets,
            "columns_per_dataset": self.columns_per_dataset,
            "seed": self.seed,
        }


def column_counts(rng: random.Random, n: int, avg: int) -> list[int]:
    """Columns per dataset: avg on average exactly, varying in pairs (avg+k, avg-k)."""
    counts = []
    spread = min(avg - 1, 8)
    for _ in range(n // 2):
        k = rng.randint(0, spread)
        counts += [avg + k, avg - k]
    if n % 2:
        counts.append(avg)
    rng.shuffle(counts)
    return counts


def copy_rows(
    cur: psycopg.Cursor[Any], table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> int:
    stmt = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    n = 0
    with cur.copy(stmt) as copy:
        for row in rows:
            copy.write_row(row)
            n += 1
    return n


def fetch_ids(cur: psycopg.Cursor[Any], query: str, params: Sequence[Any] = ()) -> dict[str, int]:
    return {key: pk for pk, key in cur.execute(query, params).fetchall()}


LOAD_TABLES = [
    "catalog_dataset",
    "catalog_column",
    "catalog_column_categories",
    "catalog_dataset_categories",
    "catalog_dataset_tags",
    "catalog_lineageedge",
    "catalog_datasetuserobjectpermission",
    "catalog_datasetgroupobjectpermission",
    "catalog_classificationsuggestion",
    "audit_auditevent",
]


def drop_plain_indexes(cur: psycopg.Cursor[Any]) -> list[str]:
    """Drop the bulk-loaded tables' indexes that back no constraint; return the statements that
    rebuild them (with any per-column statistics target a migration set on them).

    Building an index once after COPY is several times faster than maintaining it row by row
    (the trigram GIN indexes above all). Constraint indexes (primary keys, unique) stay.
    """
    rows = cur.execute(
        """
        SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid),
               ARRAY(SELECT format('ALTER INDEX %%s ALTER COLUMN %%s SET STATISTICS %%s',
                                   a.attrelid::regclass, a.attnum, a.attstattarget)
                     FROM pg_attribute a
                     WHERE a.attrelid = i.indexrelid AND a.attstattarget > 0)
        FROM pg_index i
        WHERE i.indrelid = ANY(%s::regclass[])
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
        """,
        [LOAD_TABLES],
    ).fetchall()
    for name, _, _ in rows:
        cur.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
    return [stmt for _, definition, targets in rows for stmt in (definition, *targets)]


def seed(base: str, db: str, plan: Plan) -> float:
    started = time.perf_counter()
    rng = random.Random(plan.seed)
    now = datetime(2025, 6, 1, tzinfo=UTC)
    n = plan.datasets
    width = len(str(n))

    def when(days_back: int) -> datetime:
        return now - timedelta(days=rng.randint(0, days_back), seconds=rng.randint(0, 86399))

    with psycopg.connect(pg_url(base, db)) as conn, conn.cursor() as cur:
        # The generated rows are consistent by construction; skip per-row FK trigger checks.
        cur.execute("SET session_replication_role = replica")
        cur.execute("SET maintenance_work_mem = '512MB'")
        for table in LOAD_TABLES:
            if cur.execute(
                sql.SQL("SELECT EXISTS (SELECT 1 FROM {})").format(sql.Identifier(table))
            ).fetchone() != (False,):
                raise SystemExit(f"{table} is not empty: rerun with --reseed.")
        rebuild = drop_plain_indexes(cur)

        # People: an admin, the permission-narrowed viewer, 200 owners, 20 teams (groups).
        usernames = [ADMIN, VIEWER, *(f"user{i:03d}" for i in range(200))]
        copy_rows(
            cur,
            "auth_user",
            [
                "password",
                "is_superuser",
                "username",
                "first_name",
                "last_name",
                "email",
                "is_staff",
                "is_active",
                "date_joined",
            ],
            (
                (
                    "!" + uuid.uuid4().hex,
                    u == ADMIN,
                    u,
                    u.title(),
                    "Bench",
                    f"{u}@example.com",
                    u == ADMIN,
                    True,
                    now,
                )
                for u in usernames
            ),
        )
        users = fetch_ids(
            cur, "SELECT id, username FROM auth_user WHERE username = ANY(%s)", [usernames]
        )
        groups_named = [f"team-{t}" for t in TEAMS]
        copy_rows(cur, "auth_group", ["name"], ((g,) for g in groups_named))
        groups = fetch_ids(
            cur, "SELECT id, name FROM auth_group WHERE name = ANY(%s)", [groups_named]
        )
        group_ids = list(groups.values())
        owner_ids = [users[u] for u in usernames if u != ADMIN]  # the viewer owns some too
        viewer_id = users[VIEWER]
        viewer_groups = [groups["team-finance"], groups["team-risk"]]
        memberships = {(viewer_id, g) for g in viewer_groups}
        for uid in owner_ids:
            for g in rng.sample(group_ids, rng.randint(1, 2)):
                memberships.add((uid, g))
        copy_rows(cur, "auth_user_groups", ["user_id", "group_id"], sorted(memberships))

        copy_rows(
            cur,
            "catalog_datasource",
            [
                "uid",
                "name",
                "kind",
                "description",
                "host",
                "port",
                "database",
                "username",
                "owner_id",
                "created_at",
                "updated_at",
                "last_synced_at",
                "last_sync_summary",
                "last_scan_summary",
            ],
            (
                (
                    uuid.uuid4(),
                    name,
                    kind,
                    f"The {name} system.",
                    f"{name}.internal",
                    5432,
                    name,
                    "steward_reader",
                    rng.choice(owner_ids),
                    now,
                    now,
                    now,
                    "{}",
                    "{}",
                )
                for name, kind, _, _ in SOURCES
            ),
        )
        sources = fetch_ids(cur, "SELECT id, name FROM catalog_datasource")
        copy_rows(
            cur, "classification_tag", ["key", "description"], ((t, f"{t} datasets") for t in TAGS)
        )
        tags = list(fetch_ids(cur, "SELECT id, key FROM classification_tag").values())
        levels = fetch_ids(cur, "SELECT id, key FROM classification_sensitivitylevel")
        categories = fetch_ids(cur, "SELECT id, key FROM classification_datacategory")
        personal_category_ids = [categories[c] for _, _, c, _ in PERSONAL_COLUMNS]

        # Datasets (explicit ids 1..n so columns and grants can refer to them without a lookup).
        source_weights = [w for *_, w in SOURCES]
        entity_weights = [1.0] * len(ENTITIES)
        entities = [*ENTITIES, RARE_WORD + "_disputes"]
        entity_weights.append(len(ENTITIES) * 20 / n)  # ~20 datasets carry the rare word
        dataset_rows = []
        removed: set[int] = set()
        created: dict[int, datetime] = {}
        for pk in range(1, n + 1):
            src_name, src_kind, schemas, _ = rng.choices(SOURCES, source_weights)[0]
            schema = rng.choice(schemas)
            entity = rng.choices(entities, entity_weights)[0]
            table = f"{entity}_{pk:0{width}d}"
            kind = (
                "file"
                if src_kind == "s3"
                else rng.choices(["table", "view", "materialized_view"], [85, 12, 3])[0]
            )
            words = entity.replace("_", " ")
            description = (
                ""
                if rng.random() < 0.1
                else (rng.choice(PURPOSES).format(e=words) + f"; owned by {rng.choice(TEAMS)}.")
            )
            declared = rng.choice(list(levels.values())) if rng.random() < 0.1 else None
            removed_at = when(60) if rng.random() < 0.02 else None
            created[pk] = when(900)
            if removed_at:
                removed.add(pk)
            dataset_rows.append(
                (
                    pk,
                    sources[src_name],
                    schema,
                    table,
                    f"{src_name}.{schema}.{table}",
                    kind,
                    description,
                    "Synced from the source's information schema." if rng.random() < 0.5 else "",
                    rng.choice(owner_ids) if rng.random() < 0.85 else None,
                    rng.choice(group_ids) if rng.random() < 0.30 else None,
                    rng.choice(owner_ids) if rng.random() < 0.60 else None,
                    rng.choice(group_ids) if rng.random() < 0.20 else None,
                    declared,
                    removed_at,
                    created[pk],
                    created[pk],
                )
            )
        copy_rows(
            cur,
            "catalog_dataset",
            [
                "id",
                "source_id",
                "schema_name",
                "table_name",
                "fqn",
                "kind",
                "description",
                "provenance",
                "owner_id",
                "owner_group_id",
                "steward_id",
                "steward_group_id",
                "sensitivity_id",
                "removed_at",
                "created_at",
                "updated_at",
            ],
            dataset_rows,
        )
        del dataset_rows

        # Columns, their categories, and pending scanner suggestions.
        counts = column_counts(rng, n, plan.columns_per_dataset)
        column_categories: list[tuple[int, int]] = []
        suggestions: list[tuple[Any, ...]] = []
        stewards = owner_ids[:40]
        internal, public = levels["internal"], levels["public"]

        def columns() -> Iterator[tuple[Any, ...]]:
            pk = 0
            for dataset_id, count in enumerate(counts, start=1):
                scanned = rng.random() < SCANNED_SHARE
                at = created[dataset_id]
                taken = {"id"}
                specs: list[ColumnSpec] = [("id", "bigint", None, None)]
                while len(specs) < count:
                    spec: ColumnSpec
                    if rng.random() < PERSONAL_SHARE:
                        spec = rng.choice(PERSONAL_COLUMNS)
                    else:
                        spec = (*rng.choice(GENERIC_COLUMNS), None, None)
                    if spec[0] in taken:
                        if len(taken) >= len(GENERIC_COLUMNS):  # very wide tables
                            spec = (f"attribute_{len(specs)}", "text", None, None)
                        else:
                            continue
                    taken.add(spec[0])
                    specs.append(spec)
                for ordinal, (name, data_type, category, level) in enumerate(specs):
                    pk += 1
                    sensitivity = None
                    if scanned and level is not None:
                        sensitivity = levels[level]
                        if category is not None and rng.random() < PERSONAL_CATEGORISED:
                            column_categories.append((pk, categories[category]))
                    elif scanned and rng.random() < GENERIC_SENSITIVE:
                        sensitivity = internal if rng.random() < 0.8 else public
                    elif category is not None and level is not None and rng.random() < 0.15:
                        evidence = {"matched": rng.randint(20, 200), "sampled": 200}
                        confidence = round(rng.uniform(0.6, 0.99), 2)
                        suggestions.append(
                            (
                                pk,
                                categories[category],
                                levels[level],
                                "regex",
                                confidence,
                                json.dumps(evidence),
                                "",
                                "pending",
                                "",
                                at,
                            )
                        )
                    classified = sensitivity is not None and rng.random() < 0.5
                    yield (
                        pk,
                        dataset_id,
                        name,
                        data_type,
                        rng.random() < 0.7,
                        ordinal,
                        "",
                        sensitivity,
                        rng.choice(stewards) if classified else None,
                        at if classified else None,
                        at if rng.random() < 0.01 else None,
                        at,
                        at,
                    )

        total_columns = copy_rows(
            cur,
            "catalog_column",
            [
                "id",
                "dataset_id",
                "name",
                "data_type",
                "is_nullable",
                "ordinal",
                "description",
                "sensitivity_id",
                "classified_by_id",
                "classified_at",
                "removed_at",
                "created_at",
                "updated_at",
            ],
            columns(),
        )
        copy_rows(
            cur, "catalog_column_categories", ["column_id", "datacategory_id"], column_categories
        )
        copy_rows(
            cur,
            "catalog_classificationsuggestion",
            [
                "column_id",
                "category_id",
                "sensitivity_id",
                "detector",
                "confidence",
                "evidence",
                "content_digest",
                "status",
                "note",
                "created_at",
            ],
            suggestions,
        )

        # Dataset-level categories and tags.
        dataset_categories = set()
        dataset_tags = set()
        for pk in range(1, n + 1):
            if rng.random() < 0.05:
                for c in rng.sample(personal_category_ids, rng.randint(1, 2)):
                    dataset_categories.add((pk, c))
            if rng.random() < 0.40:
                for t in rng.sample(tags, rng.randint(1, 3)):
                    dataset_tags.add((pk, t))
        copy_rows(
            cur,
            "catalog_dataset_categories",
            ["dataset_id", "datacategory_id"],
            sorted(dataset_categories),
        )
        copy_rows(cur, "catalog_dataset_tags", ["dataset_id", "tag_id"], sorted(dataset_tags))

        # Lineage: acyclic by construction (always from a lower id to a higher id).
        edges: set[tuple[int, int]] = set()
        while len(edges) < max(n // 20, 1) and n > 1:
            up = rng.randint(1, n - 1)
            edges.add((up, min(n, up + rng.randint(1, 2000))))
        copy_rows(
            cur,
            "catalog_lineageedge",
            ["upstream_id", "downstream_id", "description", "created_at"],
            ((u, d, "", now) for u, d in sorted(edges)),
        )

        # Object permissions (guardian, direct-FK tables): the viewer sees ~2,000 datasets by
        # grant; everyone else holds some too so the table is not the viewer's alone.
        perms = fetch_ids(
            cur,
            """SELECT p.id, p.codename FROM auth_permission p JOIN django_content_type ct
               ON ct.id = p.content_type_id WHERE ct.app_label = 'catalog' AND ct.model = 'dataset'""",
        )
        view, change = perms["view_dataset"], perms["change_dataset"]
        user_grants = set()
        for pk in rng.sample(range(1, n + 1), min(2000, n)):
            user_grants.add((viewer_id, change if rng.random() < 0.025 else view, pk))
        for uid in owner_ids:
            if uid != viewer_id:
                for pk in rng.sample(range(1, n + 1), min(rng.randint(0, 200), n)):
                    user_grants.add((uid, view, pk))
        copy_rows(
            cur,
            "catalog_datasetuserobjectpermission",
            ["user_id", "permission_id", "content_object_id"],
            sorted(user_grants),
        )
        group_grants = {
            (g, view, pk) for g in group_ids for pk in rng.sample(range(1, n + 1), min(150, n))
        }
        copy_rows(
            cur,
            "catalog_datasetgroupobjectpermission",
            ["group_id", "permission_id", "content_object_id"],
            sorted(group_grants),
        )

        # History: a registration event per dataset, a classification event for some.
        # Each row's canonical body is built as audit_record builds it (same encoder).
        from apps.audit.merkle import canonical_body
        from apps.audit.services import format_ts

        def audit() -> Iterator[tuple[Any, ...]]:
            for pk in range(1, n + 1):
                actor = rng.choice(stewards)
                for action, at in [("dataset.register", created[pk])] + (
                    [("column.classify", when(120))] if rng.random() < 0.2 else []
                ):
                    at = at.replace(microsecond=at.microsecond // 1000 * 1000)
                    fields = {
                        "v": 1,
                        "ts": format_ts(at),
                        "actor_type": "user",
                        "actor_id": actor,
                        "actor_repr": f"user#{actor}",
                        "ip": "10.0.0.1",
                        "request_id": uuid.uuid4().hex,
                        "action": action,
                        "target_type": "catalog.dataset",
                        "target_id": str(pk),
                        "target_repr": f"dataset #{pk}",
                        "scope": f"catalog.dataset:{pk}",
                        "outcome": "success",
                        "changes": {},
                    }
                    yield (
                        at,
                        *(fields[k] for k in AUDIT_COLUMNS[1:-1]),
                        canonical_body(fields),
                    )

        copy_rows(
            cur,
            "audit_auditevent",
            AUDIT_COLUMNS,
            audit(),
        )

        # effective_sensitivity = max(declared, most sensitive live column), as the services keep it.
        cur.execute(
            """
            WITH top_column AS (
                SELECT c.dataset_id, max(l.rank) AS rank
                FROM catalog_column c JOIN classification_sensitivitylevel l ON l.id = c.sensitivity_id
                WHERE c.removed_at IS NULL
                GROUP BY c.dataset_id
            ), best AS (
                SELECT d.id, GREATEST(tc.rank, dl.rank) AS rank
                FROM catalog_dataset d
                LEFT JOIN top_column tc ON tc.dataset_id = d.id
                LEFT JOIN classification_sensitivitylevel dl ON dl.id = d.sensitivity_id
            )
            UPDATE catalog_dataset d SET effective_sensitivity_id = l.id
            FROM best JOIN classification_sensitivitylevel l ON l.rank = best.rank
            WHERE d.id = best.id
            """
        )
        for table in ("catalog_dataset", "catalog_column"):
            cur.execute(
                sql.SQL(
                    "SELECT setval(pg_get_serial_sequence(%s, 'id'), (SELECT max(id) FROM {}))"
                ).format(sql.Identifier(table)),
                [table],
            )
        conn.commit()
        # The UPDATE above left one dead version of every dataset row: rewrite the table before
        # the indexes are built, so it looks like a table that grew normally.
        conn.autocommit = True
        cur.execute("VACUUM FULL catalog_dataset")
        for statement in rebuild:
            cur.execute(statement)
        cur.execute("CREATE TABLE bench_seed_info (info jsonb NOT NULL)")
        info = plan.as_info() | {
            "columns": total_columns,
            "seconds": round(time.perf_counter() - started, 1),
        }
        cur.execute("INSERT INTO bench_seed_info VALUES (%s)", [json.dumps(info)])
        cur.execute("VACUUM ANALYZE")
    return time.perf_counter() - started


def seed_summary(base: str, db: str) -> str:
    with psycopg.connect(pg_url(base, db), autocommit=True) as conn:
        row = conn.execute(
            """
            SELECT (SELECT count(*) FROM catalog_datasource),
                   (SELECT count(*) FROM catalog_dataset),
                   (SELECT count(*) FROM catalog_column),
                   (SELECT round(100.0 * count(sensitivity_id) / greatest(count(*), 1), 1) FROM catalog_column),
                   (SELECT round(100.0 * count(DISTINCT column_id) / greatest((SELECT count(*) FROM catalog_column), 1), 1)
                      FROM catalog_column_categories),
                   (SELECT round(100.0 * count(*) FILTER (WHERE effective_sensitivity_id IS NULL)
                           / greatest(count(*), 1), 1) FROM catalog_dataset),
                   (SELECT count(*) FROM catalog_dataset_tags),
                   (SELECT count(*) FROM catalog_lineageedge),
                   (SELECT count(*) FROM catalog_datasetuserobjectpermission p JOIN auth_user u
                      ON u.id = p.user_id WHERE u.username = %s),
                   (SELECT count(*) FROM catalog_datasetuserobjectpermission),
                   (SELECT count(*) FROM audit_auditevent),
                   pg_size_pretty(pg_database_size(current_database()))
            """,
            [VIEWER],
        ).fetchone()
    assert row is not None
    return (
        "data: {} sources, {:,} datasets, {:,} columns ({}% with sensitivity, {}% with categories), "
        "{}% datasets unclassified, {:,} dataset tags, {:,} lineage edges, {:,} viewer grants "
        "({:,} user grants), {:,} audit events; database {}".format(*row)
    )


# ---------------------------------------------------------------------------------------------
# Timing


@dataclass
class Result:
    actor: str
    surface: str
    case: str
    status: str = "ok"
    times_ms: list[float] = field(default_factory=list)
    queries: int | None = None

    @property
    def timed(self) -> bool:
        return bool(self.times_ms)

    def pct(self, p: float) -> float:
        ordered = sorted(self.times_ms)
        return ordered[max(0, math.ceil(p * len(ordered)) - 1)]


def run_timed(fn: Callable[[], Any], runs: int, warmup: int) -> list[float]:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--datasets", type=int, default=100_000)
    parser.add_argument("--columns-per-dataset", type=int, default=10)
    parser.add_argument("--runs", type=int, default=20, help="timed runs per case (after warm-up)")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument(
        "--reseed", action="store_true", help="drop and recreate the database first"
    )
    parser.add_argument("--db", default="steward_bench")
    parser.add_argument(
        "--pg",
        default=os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432"),
        help="server URL without a database name (env BENCH_PG)",
    )
    parser.add_argument("--seed", type=int, default=42, help="random seed of the generated data")
    parser.add_argument("--only", default="", help="run only cases whose name contains this text")
    parser.add_argument(
        "--explain",
        type=float,
        default=None,
        metavar="MS",
        help="print EXPLAIN ANALYZE for each case's queries slower than MS milliseconds",
    )
    args = parser.parse_args()
    if args.datasets < 2 or args.columns_per_dataset < 1:
        parser.error("--datasets must be at least 2 and --columns-per-dataset at least 1")
    check_db_name(args.db)
    plan = Plan(args.datasets, args.columns_per_dataset, args.seed)

    fresh = args.reseed or not database_exists(args.pg, args.db)
    if not fresh:
        info = seeded_as(args.pg, args.db)
        if info is None or {k: info.get(k) for k in plan.as_info()} != plan.as_info():
            print(f"{args.db} is not seeded as asked ({info}); recreating it.")
            fresh = True
    if fresh:
        recreate_database(args.pg, args.db)

    os.environ["DATABASE_URL"] = pg_url(args.pg, args.db)
    os.environ["DJANGO_SETTINGS_MODULE"] = "controlplane.settings.test"
    import django

    django.setup()
    from django.core.management import call_command

    t0 = time.perf_counter()
    call_command("migrate", verbosity=0)  # on a reused database: applies new index migrations
    print(f"migrations: {time.perf_counter() - t0:.1f} s")
    if fresh:
        from django.db import connections

        connections.close_all()
        seconds = seed(args.pg, args.db, plan)
        print(f"seeding: {seconds:.1f} s")
    else:
        print(f"seeding: reused {args.db} (--reseed to rebuild)")
    print(seed_summary(args.pg, args.db))

    results = time_cases(args)
    print_table(results)
    timed = [r for r in results if r.timed]
    over = [r for r in timed if r.pct(0.95) >= BUDGET_MS]
    missing = [r for r in results if r.status.startswith("missing")]
    failed = [r for r in results if not r.timed and not r.status.startswith("missing")]
    print()
    if missing:
        print("missing endpoints: " + ", ".join(sorted({f"{r.surface} {r.case}" for r in missing})))
    if failed:
        print("errors: " + "; ".join(f"{r.actor} {r.surface} {r.case}: {r.status}" for r in failed))
    verdict = "YES" if timed and not over and not failed else "NO"
    print(
        f"every p95 under {BUDGET_MS:.0f} ms: {verdict} ({len(timed)} cases timed, {len(over)} over budget, "
        f"{len(missing)} missing, {len(failed)} errors)"
    )
    for r in over:
        print(f"  over budget: {r.actor} {r.surface} {r.case}: p95 {r.pct(0.95):.1f} ms")
    return 0 if verdict == "YES" else 1


def filter_cases(busy_owner: str) -> list[tuple[str, dict[str, str]]]:
    """Filters that match seeded data; each is timed on every surface, for every actor."""
    return [
        ("list page 1", {}),
        ("list deep page", {"page": "DEEP"}),
        ("search q=orders", {"q": "orders"}),
        (f"search q={RARE_WORD}", {"q": RARE_WORD}),
        ("search q=no-match", {"q": "zzqx-nothing"}),
        ("sensitivity=restricted", {"sensitivity": "restricted"}),
        ("category=health", {"category": "health"}),
        ("source=warehouse", {"source": "warehouse"}),
        (f"owner={busy_owner}", {"owner": busy_owner}),
        ("owner=team-finance (group)", {"owner": "team-finance"}),
        ("tag=gold", {"tag": "gold"}),
        ("unclassified", {"unclassified": "true"}),
        ("q+source+sensitivity", {"q": "orders", "source": "crm", "sensitivity": "confidential"}),
        ("category+tag+owner", {"category": "contact", "tag": "pii", "owner": "team-risk"}),
    ]


def detail_target(actor: Any) -> Any:
    """A live dataset ``actor`` sees, with lineage on both sides and as many columns as any."""
    from django.db.models import Count

    from apps.catalog import selectors
    from apps.catalog.models import Column, Dataset, LineageEdge

    visible = selectors.dataset_visible(actor=actor).filter(removed_at__isnull=True)
    linked = visible.filter(pk__in=LineageEdge.objects.values("downstream_id")).filter(
        pk__in=LineageEdge.objects.values("upstream_id")
    )
    widest = (
        Column.objects.filter(dataset__in=linked.order_by("pk")[:500])
        .values("dataset_id")
        .annotate(n=Count("id"))
        .order_by("-n", "dataset_id")
        .first()
    )
    pk = widest["dataset_id"] if widest else visible.order_by("pk").values_list("pk", flat=True)[0]
    return Dataset.objects.get(pk=pk)


@dataclass
class Timer:
    """Times one actor's cases; results accumulate in ``results``."""

    label: str
    actor: Any
    args: argparse.Namespace
    results: list[Result]

    def wanted(self, surface: str, case: str) -> bool:
        return not self.args.only or self.args.only in f"{surface} {case}"

    def measure(self, result: Result, fn: Callable[[], Any]) -> None:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            fn()
        result.queries = len(captured)
        result.times_ms = run_timed(fn, self.args.runs, self.args.warmup)
        if self.args.explain is not None:
            title = f"{result.actor} {result.surface} {result.case}"
            explain(captured.captured_queries, self.args.explain, title)

    def http(self, client: Any, surface: str, case: str, path: str, params: dict[str, str]) -> None:
        """Time GET ``path`` through the whole Django stack; report a missing or failing URL."""
        from django.urls import Resolver404, resolve

        if not self.wanted(surface, case):
            return
        result = Result(self.label, surface, case)
        self.results.append(result)
        try:
            resolve(path)
        except Resolver404:
            result.status = "missing (no URL)"
            return
        except Exception as exc:  # the URLconf is being written right now: report it, go on
            result.status = f"missing ({type(exc).__name__}: {exc})"[:120]
            return
        url = path + ("?" + urlencode(params) if params else "")

        def get() -> None:
            response = client.get(url)
            if response.status_code != 200:
                raise RuntimeError(f"HTTP {response.status_code}")
            _ = response.content  # rendered and serialized in full

        try:
            self.measure(result, get)
        except Exception as exc:  # a view being written may fail: report it, go on
            result.status = f"{type(exc).__name__}: {exc}"[:120]

    def selector(self, case: str, params: dict[str, str]) -> None:
        """Time ``dataset_list(...)``: its count plus one page (evaluated, tags prefetched)."""
        from apps.catalog import selectors

        if not self.wanted("selector", case):
            return
        result = Result(self.label, "selector", case)
        self.results.append(result)
        filters = selectors.DatasetFilters(
            q=params.get("q", ""),
            source=params.get("source", ""),
            sensitivity=params.get("sensitivity", ""),
            category=params.get("category", ""),
            owner=params.get("owner", ""),
            tag=params.get("tag", ""),
            unclassified=params.get("unclassified") == "true",
        )
        offset = (int(params.get("page", "1")) - 1) * PAGE_SIZE

        def evaluate() -> None:
            # As Django's Paginator does it: count first, then the page, never past the end.
            qs = selectors.dataset_list(actor=self.actor, filters=filters)
            total = qs.count()
            list(qs[offset : min(offset + PAGE_SIZE, total)])

        self.measure(result, evaluate)


def time_cases(args: argparse.Namespace) -> list[Result]:
    from django.contrib.auth import get_user_model
    from django.test import Client

    from apps.catalog import selectors
    from apps.catalog.models import Dataset

    users = get_user_model().objects
    busy_owner = (
        Dataset.objects.filter(owner__username__startswith="user")
        .values_list("owner__username", flat=True)
        .order_by("owner__username")
        .first()
    )
    cases = filter_cases(busy_owner or "user000")
    results: list[Result] = []
    for label, username in (("admin", ADMIN), ("viewer", VIEWER)):
        actor = users.get(username=username)
        timer = Timer(label, actor, args, results)
        client = Client()
        client.force_login(actor)
        visible = selectors.dataset_list(actor=actor).count()
        # The deep page: page 500, or the last page when the actor sees fewer datasets.
        deep = str(max(1, min(500, math.ceil(visible / PAGE_SIZE))))
        target = detail_target(actor)
        print(f"{label}: sees {visible:,} live datasets; deep page = {deep}")
        pages = [(case, {k: deep if v == "DEEP" else v for k, v in p.items()}) for case, p in cases]
        for case, params in pages:
            timer.selector(case, params)
        for case, params in pages:
            timer.http(client, "ui", case, "/catalog/", params)
        timer.http(
            client, "ui", f"dataset detail #{target.pk}", f"/catalog/datasets/{target.pk}/", {}
        )
        for case, params in pages:
            timer.http(client, "api", case, "/api/v1/datasets/", params)
        api = f"/api/v1/datasets/{target.pk}/"
        timer.http(client, "api", f"dataset detail #{target.pk}", api, {})
        timer.http(client, "api", f"dataset columns #{target.pk}", api + "columns/", {})
    return results


def explain(queries: list[dict[str, str]], threshold_ms: float, title: str) -> None:
    from django.db import connection

    for q in queries:
        if float(q["time"]) * 1000 < threshold_ms or not q["sql"].lstrip().upper().startswith(
            "SELECT"
        ):
            continue
        with connection.cursor() as cur:
            cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + q["sql"])
            plan = "\n".join(row[0] for row in cur.fetchall())
        print(f"\n--- {title}: {float(q['time']) * 1000:.1f} ms\n{q['sql']}\n{plan}\n")


def print_table(results: list[Result]) -> None:
    header = f"{'actor':<7} {'surface':<8} {'case':<36} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'queries':>7}  status"
    print()
    print(header)
    print("-" * len(header))
    for r in results:
        if r.timed:
            flag = "" if r.pct(0.95) < BUDGET_MS else "  OVER BUDGET"
            print(
                f"{r.actor:<7} {r.surface:<8} {r.case:<36} {statistics.median(r.times_ms):>8.1f} "
                f"{r.pct(0.95):>8.1f} {max(r.times_ms):>8.1f} {r.queries or 0:>7}  ok{flag}"
            )
        else:
            print(
                f"{r.actor:<7} {r.surface:<8} {r.case:<36} {'-':>8} {'-':>8} {'-':>8} {'-':>7}  {r.status}"
            )


if __name__ == "__main__":
    sys.exit(main())
