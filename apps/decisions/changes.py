"""Has anything the governance snapshot reads changed since it was built?

Database triggers note every write to those tables (datasets, columns, classifications,
owners and viewers, people and groups, roles, bindings, grants, credentials, policy packages),
whoever makes it: services, the admin site, a schema sync, raw SQL. So a process rebuilds its
snapshot only when something changed, instead of on a timer, and never misses a change.

- **PostgreSQL**: a statement-level trigger inserts the writing transaction's id into
  ``decisions_snapshotchange``. The snapshot is built in one REPEATABLE READ transaction whose
  ``pg_current_snapshot()`` is kept as the *marker*; later, a committed change row whose
  transaction that snapshot could not see means the build is stale. Exact under concurrency
  (a transaction in flight during the build is invisible to it, so its row counts once it
  commits), and no shared row is locked, so writers never wait on each other for it. Rows
  older than ``PRUNE_AFTER`` are deleted; a process that has not checked for half that long
  rebuilds without asking.
- **SQLite** (the local default, one writer at a time): row triggers bump a counter; the
  marker is its value.
"""

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import connection, transaction

PRUNE_AFTER = dt.timedelta(minutes=10)
_PRUNE_EVERY_S = 60.0

# (app label, model or "app.Model.m2m_field", the columns whose update matters, or None for
# any). Columns are listed where a busy field (a sign-in time, a last-used time, a sync
# summary) would otherwise count as a change.
WATCHED: list[tuple[str, tuple[str, ...] | None]] = [
    ("catalog.Dataset", None),
    ("catalog.Column", None),
    ("catalog.Column.categories", None),
    ("catalog.DataSource", ("name",)),
    ("catalog.DatasetUserObjectPermission", None),
    ("catalog.DatasetGroupObjectPermission", None),
    ("classification.SensitivityLevel", None),
    ("classification.DataCategory", ("key",)),
    ("auth.User", ("username", "is_active", "is_superuser")),
    ("auth.Group", None),
    ("auth.User.groups", None),
    ("access.Role", None),
    ("access.RoleBinding", None),
    ("access.Grant", None),
    ("decisions.ServiceCredential", ("name", "revoked_at")),
    ("decisions.PolicyPackage", None),
]


def _table(apps: Any, label: str) -> str:
    """The table of ``app.Model`` or of the many-to-many ``app.Model.field``."""
    parts = label.split(".")
    model = apps.get_model(parts[0], parts[1])
    if len(parts) == 3:
        model = model._meta.get_field(parts[2]).remote_field.through
    return str(model._meta.db_table)


def install_triggers(apps: Any, schema_editor: Any) -> None:
    """Migration step: the triggers for this database (PostgreSQL or SQLite)."""
    vendor = schema_editor.connection.vendor
    quote = schema_editor.quote_name
    if vendor == "postgresql":
        schema_editor.execute(
            """
            CREATE OR REPLACE FUNCTION steward_snapshot_touched() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO decisions_snapshotchange (txid)
                VALUES (pg_current_xact_id()::text::bigint);
                RETURN NULL;
            END $$
            """
        )
    elif vendor == "sqlite":
        schema_editor.execute("INSERT INTO decisions_snapshotcounter (id, version) VALUES (1, 0)")
    else:
        return
    for label, columns in WATCHED:
        table = _table(apps, label)
        name = f"steward_snapshot_{table}"[:63]
        if vendor == "postgresql":
            update = "UPDATE" if columns is None else f"UPDATE OF {', '.join(map(quote, columns))}"
            schema_editor.execute(
                f"CREATE TRIGGER {quote(name)} AFTER INSERT OR {update} OR DELETE OR TRUNCATE "
                f"ON {quote(table)} FOR EACH STATEMENT EXECUTE FUNCTION steward_snapshot_touched()"
            )
            continue
        for event in ("INSERT", "UPDATE", "DELETE"):
            clause = event
            if event == "UPDATE" and columns is not None:
                clause = f"UPDATE OF {', '.join(map(quote, columns))}"
            bump = "UPDATE decisions_snapshotcounter SET version = version + 1 WHERE id = 1"
            trigger = quote(f"{name}_{event.lower()}")
            sql = f"CREATE TRIGGER {trigger} AFTER {clause} ON {quote(table)} BEGIN {bump}; END"
            schema_editor.execute(sql)


# Row triggers that note one key per row change: table -> (kind, SQL giving the key from the
# row, written ROW for NEW or OLD). Anything they do not cover (a TRUNCATE) stays an "any".
_KEYED_ROWS = {
    "access_grant": ("grants_of", "ROW.user_id"),
    "catalog_column": ("dataset", "ROW.dataset_id"),
    "catalog_column_categories": (
        "dataset",
        "(SELECT dataset_id FROM catalog_column WHERE id = ROW.column_id)",
    ),
    "catalog_datasetuserobjectpermission": ("dataset", "ROW.content_object_id"),
    "catalog_datasetgroupobjectpermission": ("dataset", "ROW.content_object_id"),
}
_GRANT_TABLES = ["access_grant"]
_DATASET_TABLES = [t for t in _KEYED_ROWS if t not in _GRANT_TABLES]

# The old row's key on UPDATE and DELETE, the new row's on INSERT and on an UPDATE that moves
# the row to another key.
_KEYED_ROW_FUNCTION = """
CREATE OR REPLACE FUNCTION FUNCTION_NAME() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        INSERT INTO decisions_snapshotchange (txid, kind, key)
        VALUES (pg_current_xact_id()::text::bigint, 'KIND', OLD_KEY);
    END IF;
    IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW_KEY IS DISTINCT FROM OLD_KEY) THEN
        INSERT INTO decisions_snapshotchange (txid, kind, key)
        VALUES (pg_current_xact_id()::text::bigint, 'KIND', NEW_KEY);
    END IF;
    RETURN NULL;
END $$
"""


def _row_function(table: str) -> str:
    return f"steward_snapshot_{table}_row"[:63]


def _install_keyed_rows(schema_editor: Any, tables: list[str]) -> None:
    for table in tables:
        kind, expression = _KEYED_ROWS[table]
        schema_editor.execute(
            _KEYED_ROW_FUNCTION.replace("FUNCTION_NAME", _row_function(table))
            .replace("KIND", kind)
            .replace("OLD_KEY", expression.replace("ROW", "OLD"))
            .replace("NEW_KEY", expression.replace("ROW", "NEW"))
        )
        _row_triggers(schema_editor, table, _row_function(table))


def install_grant_row_triggers(apps: Any, schema_editor: Any) -> None:
    """PostgreSQL: a grant's insert, update or delete notes whose grants changed (``grants_of``
    with the user id), so the snapshot can be patched instead of rebuilt."""
    if schema_editor.connection.vendor == "postgresql":
        _install_keyed_rows(schema_editor, _GRANT_TABLES)


def remove_grant_row_triggers(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        _remove_row_triggers(schema_editor, _GRANT_TABLES)


# A dataset's own row: an update that keeps its FQN, source and liveness notes that dataset;
# anything else (OR_CREATED: unless a new live dataset, see ``install_dataset_created``;
# ELSIF_REMOVED: unless a soft removal, see ``install_dataset_removed``) is ``any``.
_DATASET_ROW_FUNCTION = """
CREATE OR REPLACE FUNCTION steward_snapshot_catalog_dataset_row() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF (TG_OP = 'UPDATE' AND NEW.fqn = OLD.fqn AND NEW.source_id = OLD.source_id
        AND NEW.removed_at IS NOT DISTINCT FROM OLD.removed_at)OR_CREATED THEN
        INSERT INTO decisions_snapshotchange (txid, kind, key)
        VALUES (pg_current_xact_id()::text::bigint, 'dataset', NEW.id);
    ELSIF_REMOVED
    ELSE
        INSERT INTO decisions_snapshotchange (txid) VALUES (pg_current_xact_id()::text::bigint);
    END IF;
    RETURN NULL;
END $$
"""


def install_dataset_row_triggers(apps: Any, schema_editor: Any) -> None:
    """PostgreSQL: changes to one dataset's columns, categories, viewers, owners or
    sensitivity note that dataset (``dataset``), so its entry alone is read again. Anything
    else on a dataset's row is an ``any`` here (later migrations patch creations and removals:
    ``install_dataset_created``, ``install_dataset_removed``)."""
    if schema_editor.connection.vendor != "postgresql":
        return
    _install_keyed_rows(schema_editor, _DATASET_TABLES)
    schema_editor.execute(_dataset_row_function(created=False, removed=False))
    _row_triggers(schema_editor, "catalog_dataset", _row_function("catalog_dataset"))


def _dataset_row_function(*, created: bool, removed: bool) -> str:
    return _DATASET_ROW_FUNCTION.replace(
        "OR_CREATED", " OR (TG_OP = 'INSERT' AND NEW.removed_at IS NULL)" if created else ""
    ).replace(
        "ELSIF_REMOVED",
        """ELSIF TG_OP = 'UPDATE' AND NEW.fqn = OLD.fqn AND NEW.source_id = OLD.source_id
        AND OLD.removed_at IS NULL AND NEW.removed_at IS NOT NULL THEN
        INSERT INTO decisions_snapshotchange (txid, kind, key)
        VALUES (pg_current_xact_id()::text::bigint, 'dataset_removed', NEW.id);"""
        if removed
        else "",
    )


def install_dataset_created(apps: Any, schema_editor: Any) -> None:
    """PostgreSQL: a new live dataset notes itself (``dataset``): nothing else names it yet
    (grants and dataset bindings come after it), so its entry alone is read. A schema sync that
    adds tables then patches instead of rebuilding (up to ``PATCH_DATASETS_MAX``)."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(_dataset_row_function(created=True, removed=False))


def remove_dataset_created(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(_dataset_row_function(created=False, removed=False))


def install_dataset_removed(apps: Any, schema_editor: Any) -> None:
    """PostgreSQL: a soft removal (``removed_at`` set, nothing else moved) notes
    ``dataset_removed``: its entry and its FQN in grants are dropped and the bindings read
    again, instead of a full build. Restoring one is still an ``any``."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(_dataset_row_function(created=True, removed=True))


def remove_dataset_removed(apps: Any, schema_editor: Any) -> None:
    install_dataset_created(apps, schema_editor)


def _row_triggers(schema_editor: Any, table: str, function: str) -> None:
    """Replace ``table``'s statement trigger by ``function`` per row (TRUNCATE stays ``any``)."""
    name = f"steward_snapshot_{table}"[:63]
    schema_editor.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
    schema_editor.execute(
        f"CREATE TRIGGER {name} AFTER TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION steward_snapshot_touched()"
    )
    schema_editor.execute(
        f"CREATE TRIGGER {name[:58]}_rows AFTER INSERT OR UPDATE OR DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION {function}()"
    )


def _remove_row_triggers(schema_editor: Any, tables: list[str]) -> None:
    """Back to one statement trigger noting ``any`` on each of ``tables``."""
    for table in tables:
        name = f"steward_snapshot_{table}"[:63]
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {name[:58]}_rows ON {table}")
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        schema_editor.execute(
            f"CREATE TRIGGER {name} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION steward_snapshot_touched()"
        )
        schema_editor.execute(f"DROP FUNCTION IF EXISTS {_row_function(table)}()")


def remove_dataset_row_triggers(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        _remove_row_triggers(schema_editor, [*_DATASET_TABLES, "catalog_dataset"])


# Statement triggers for what touches only the principals and bindings sections:
# table -> (events noted as "principals", events still noted as "any").
_PRINCIPAL_EVENTS = {
    "auth_user_groups": ("INSERT OR UPDATE OR DELETE", "TRUNCATE"),
    "access_role": ("INSERT OR UPDATE OR DELETE", "TRUNCATE"),
    "access_rolebinding": ("INSERT OR UPDATE OR DELETE", "TRUNCATE"),
    "decisions_servicecredential": (
        'INSERT OR UPDATE OF "name", "revoked_at" OR DELETE',
        "TRUNCATE",
    ),
    # A name or who is active also appears in datasets and grants: those rebuild everything.
    # (Both replaced by row triggers that patch: ``install_person_triggers``,
    # ``install_renames``.)
    "auth_user": (
        'INSERT OR UPDATE OF "is_superuser"',
        'UPDATE OF "username", "is_active" OR DELETE OR TRUNCATE',
    ),
    "auth_group": ("INSERT", 'UPDATE OF "name" OR DELETE OR TRUNCATE'),
}


def _statement_triggers(
    schema_editor: Any, table: str, principal_events: str, any_events: str
) -> None:
    """``table``'s statement triggers: ``principal_events`` note ``principals``, ``any_events``
    note ``any``."""
    name = f"steward_snapshot_{table}"
    for suffix, events, kind in (("", principal_events, "principals"), ("_any", any_events, "any")):
        schema_editor.execute(
            f"CREATE TRIGGER {name}{suffix} AFTER {events} ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION steward_snapshot_touched('{kind}')"
        )


def install_principal_triggers(apps: Any, schema_editor: Any) -> None:
    """PostgreSQL: memberships, roles, bindings, credentials, new people and who is a
    superuser note ``principals`` (those two sections are read again); the trigger function
    takes the kind it notes as its argument."""
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        """
        CREATE OR REPLACE FUNCTION steward_snapshot_touched() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO decisions_snapshotchange (txid, kind)
            VALUES (pg_current_xact_id()::text::bigint, COALESCE(TG_ARGV[0], 'any'));
            RETURN NULL;
        END $$
        """
    )
    for table, (principal_events, any_events) in _PRINCIPAL_EVENTS.items():
        schema_editor.execute(f"DROP TRIGGER IF EXISTS steward_snapshot_{table} ON {table}")
        _statement_triggers(schema_editor, table, principal_events, any_events)


def remove_principal_triggers(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in _PRINCIPAL_EVENTS:
        name = f"steward_snapshot_{table}"
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}_any ON {table}")
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        schema_editor.execute(
            f"CREATE TRIGGER {name} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION steward_snapshot_touched()"
        )


def _compare_updates_per_row(schema_editor: Any, table: str, function_sql: str) -> None:
    """``table``'s updates go through ``function_sql`` (which defines
    ``steward_snapshot_<table>_row``) per row; an insert notes ``principals``, a delete or
    TRUNCATE ``any``."""
    name = f"steward_snapshot_{table}"
    schema_editor.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
    schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}_any ON {table}")
    schema_editor.execute(function_sql)
    _statement_triggers(schema_editor, table, "INSERT", "DELETE OR TRUNCATE")
    schema_editor.execute(
        f"CREATE TRIGGER {name}_rows AFTER UPDATE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION {name}_row()"
    )


def _back_to_statement_triggers(schema_editor: Any, table: str) -> None:
    """Undo ``_compare_updates_per_row``: ``table``'s statement triggers of
    ``install_principal_triggers`` again."""
    name = f"steward_snapshot_{table}"
    for trigger in (name, f"{name}_any", f"{name}_rows"):
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {trigger} ON {table}")
    schema_editor.execute(f"DROP FUNCTION IF EXISTS {name}_row()")
    _statement_triggers(schema_editor, table, *_PRINCIPAL_EVENTS[table])


# auth_user, per row: only a change decisions read counts, and a deactivation (or reactivation)
# is patched. A full save (the admin site writes every column) changes nothing here unless a
# value it reads actually differs. A rename rebuilds everything (datasets and grants name
# people), or, from ``install_renames`` (RENAMED_PATCHED), is patched like a deactivation.
_PERSON_ROW_FUNCTION = """
CREATE OR REPLACE FUNCTION steward_snapshot_auth_user_row() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.id IS DISTINCT FROM OLD.id RENAMED THEN
        INSERT INTO decisions_snapshotchange (txid) VALUES (pg_current_xact_id()::text::bigint);
    ELSIF NEW.is_active IS DISTINCT FROM OLD.is_active RENAMED_PATCHED THEN
        INSERT INTO decisions_snapshotchange (txid, kind, key)
        VALUES (pg_current_xact_id()::text::bigint, 'person', NEW.id);
    ELSIF NEW.is_superuser IS DISTINCT FROM OLD.is_superuser THEN
        INSERT INTO decisions_snapshotchange (txid, kind)
        VALUES (pg_current_xact_id()::text::bigint, 'principals');
    END IF;
    RETURN NULL;
END $$
"""


def _person_row_function(*, renames: bool) -> str:
    rename = "NEW.username IS DISTINCT FROM OLD.username"
    return _PERSON_ROW_FUNCTION.replace(
        " RENAMED_PATCHED", f" OR {rename}" if renames else ""
    ).replace(" RENAMED", "" if renames else f" OR {rename}")


_GROUP_ROW_FUNCTION = """
CREATE OR REPLACE FUNCTION steward_snapshot_auth_group_row() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.id IS DISTINCT FROM OLD.id THEN
        INSERT INTO decisions_snapshotchange (txid) VALUES (pg_current_xact_id()::text::bigint);
    ELSIF NEW.name IS DISTINCT FROM OLD.name THEN
        INSERT INTO decisions_snapshotchange (txid, kind, key)
        VALUES (pg_current_xact_id()::text::bigint, 'group', NEW.id);
    END IF;
    RETURN NULL;
END $$
"""


def install_renames(apps: Any, schema_editor: Any) -> None:
    """PostgreSQL: renaming a person notes ``person`` (as a deactivation does), renaming a
    group ``group``: the principals and bindings, and the grants and datasets that name them,
    are read again, and entries under the old name dropped, instead of a full build."""
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(_person_row_function(renames=True))
    _compare_updates_per_row(schema_editor, "auth_group", _GROUP_ROW_FUNCTION)


def remove_renames(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(_person_row_function(renames=False))
    _back_to_statement_triggers(schema_editor, "auth_group")


def install_person_triggers(apps: Any, schema_editor: Any) -> None:
    """PostgreSQL: people's updates compared per row (``_PERSON_ROW_FUNCTION``); a new person
    notes ``principals``; a deleted one (or TRUNCATE) ``any``."""
    if schema_editor.connection.vendor == "postgresql":
        _compare_updates_per_row(schema_editor, "auth_user", _person_row_function(renames=False))


def remove_person_triggers(apps: Any, schema_editor: Any) -> None:
    """Back to the statement triggers of ``install_principal_triggers`` on auth_user."""
    if schema_editor.connection.vendor == "postgresql":
        _back_to_statement_triggers(schema_editor, "auth_user")


def remove_triggers(apps: Any, schema_editor: Any) -> None:
    vendor = schema_editor.connection.vendor
    quote = schema_editor.quote_name
    for label, _ in WATCHED:
        table = _table(apps, label)
        name = f"steward_snapshot_{table}"[:63]
        if vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {quote(name)} ON {quote(table)}")
        elif vendor == "sqlite":
            for event in ("insert", "update", "delete"):
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {quote(f'{name}_{event}')}")
    if vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS steward_snapshot_touched()")


T = TypeVar("T")


def read_consistently(build: Callable[[], T]) -> tuple[str, T]:
    """``build()`` run in one consistent read of the database, with the marker that says what
    it saw. Outside any transaction (the decision path), that is a REPEATABLE READ, read-only
    transaction; inside one (a test, a caller's atomic block) it is that transaction's view."""
    outer = connection.in_atomic_block
    with transaction.atomic():
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                if not outer:
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                cursor.execute("SELECT pg_current_snapshot()::text")
            else:
                cursor.execute("SELECT version FROM decisions_snapshotcounter WHERE id = 1")
            row = cursor.fetchone()
        marker = str(row[0]) if row else ""
        return marker, build()


class _Pruning:
    last = 0.0


def changed_since(marker: str) -> bool:
    """Whether a write committed since the read that produced ``marker`` (True when unsure)."""
    if not marker:
        return True
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            cursor.execute("SELECT version FROM decisions_snapshotcounter WHERE id = 1")
            row = cursor.fetchone()
            return row is None or str(row[0]) != marker
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM decisions_snapshotchange "
            "WHERE NOT pg_visible_in_snapshot(txid::text::xid8, %s::pg_snapshot))",
            [marker],
        )
        changed = bool(cursor.fetchone()[0])
        if time.monotonic() - _Pruning.last > _PRUNE_EVERY_S:
            _Pruning.last = time.monotonic()
            cursor.execute(
                "DELETE FROM decisions_snapshotchange WHERE created_at < now() - %s::interval",
                [f"{int(PRUNE_AFTER.total_seconds())} seconds"],
            )
        return changed


# Past this many datasets to read again (a schema sync), one full build is cheaper.
PATCH_DATASETS_MAX = 500


@dataclass(frozen=True)
class Pending:
    """What committed since a marker: everything to rebuild, or only the principals and
    bindings, these people's grants and these datasets' entries."""

    everything: bool
    principals: bool = False
    grants_of: frozenset[int] = frozenset()
    datasets: frozenset[int] = frozenset()
    removed: frozenset[int] = frozenset()  # datasets soft-removed


def changes_since(marker: str) -> Pending:
    """The writes committed since ``marker`` and visible now, by what they touch. Run it inside
    ``read_consistently`` so the answer and the data read for a patch come from the same view.
    SQLite: always everything."""
    if connection.vendor != "postgresql" or not marker:
        return Pending(everything=True)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT kind, key FROM decisions_snapshotchange "
            "WHERE NOT pg_visible_in_snapshot(txid::text::xid8, %s::pg_snapshot)",
            [marker],
        )
        rows = cursor.fetchall()
    keyed = {"grants_of", "dataset", "person", "dataset_removed", "group"}
    if not rows or any(
        kind not in (*keyed, "principals") or (kind in keyed and key is None) for kind, key in rows
    ):
        return Pending(everything=True)
    # A person (de)activated: they appear in, or vanish from, the principals, their grants
    # and the entries of the datasets that name them.
    people = {int(key) for kind, key in rows if kind == "person"}
    datasets = {int(key) for kind, key in rows if kind == "dataset"}
    groups = {int(key) for kind, key in rows if kind == "group"}
    if people or groups:
        from apps.decisions.snapshot import datasets_naming

        datasets |= datasets_naming(people, groups)
    removed = {int(key) for kind, key in rows if kind == "dataset_removed"}
    if len(datasets) + len(removed) > PATCH_DATASETS_MAX:
        return Pending(everything=True)
    return Pending(
        everything=False,
        # Bindings may name a removed dataset.
        principals=bool(people or groups or removed)
        or any(kind == "principals" for kind, _ in rows),
        grants_of=frozenset(people | {int(key) for kind, key in rows if kind == "grants_of"}),
        datasets=frozenset(datasets),
        removed=frozenset(removed),
    )


def max_unchecked_seconds() -> float:
    """Past this long without a check, rows a process never saw may be pruned: rebuild."""
    return PRUNE_AFTER.total_seconds() / 2
