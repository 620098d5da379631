"""Change-driven snapshot builds: database triggers note every write the snapshot depends on,
whoever makes it, so a process rebuilds exactly when something changed."""

import json
import threading
import time

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone

from apps.catalog.models import Dataset
from apps.decisions import changes
from apps.decisions.services import current_build, decision_evaluate, snapshot_invalidate
from tests.factories import GrantFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _read(who: str, fqn: str = "crm.public.leads") -> bool:
    return decision_evaluate(
        caller="svc",
        request={
            "subject": {"type": "user", "id": who},
            "action": {"name": "read"},
            "resource": {"type": "dataset", "id": fqn},
        },
    ).allow


def test_nothing_changed_means_no_rebuild(leads, settings):
    settings.DECISION_SNAPSHOT_REFRESH_SECONDS = 0
    first = current_build()
    snapshot_invalidate()
    assert current_build() is first  # checked, found nothing, kept
    get_user_model().objects.filter(username="olivia").update(last_login=timezone.now())
    assert current_build() is first  # a sign-in time is not something decisions read


def test_a_write_outside_the_services_is_seen_within_the_refresh_interval(leads, viewer, settings):
    settings.DECISION_SNAPSHOT_REFRESH_SECONDS = 0.5
    assert _read("vera") is False
    before = current_build()
    # Straight to the table, as an admin-site edit or a script would: no service, no signal.
    Dataset.objects.filter(pk=leads.pk).update(owner=viewer)
    time.sleep(0.6)
    assert _read("vera") is True
    assert current_build().version > before.version


def test_the_marker_sees_commits_made_after_the_read():
    marker, _ = changes.read_consistently(lambda: None)
    assert changes.changed_since(marker) is False
    get_user_model().objects.create(username="newcomer")
    assert changes.changed_since(marker) is True
    marker, _ = changes.read_consistently(lambda: None)
    assert changes.changed_since(marker) is False


def test_a_transaction_in_flight_during_the_build_counts_once_it_commits():
    """The race a counter read outside the build would lose: a writer that started before
    the build and commits after it."""
    started, release = threading.Event(), threading.Event()

    def writer():
        with transaction.atomic():
            get_user_model().objects.create(username="late")
            started.set()
            release.wait(10)
        connection.close()

    thread = threading.Thread(target=writer)
    thread.start()
    assert started.wait(10)
    marker, seen = changes.read_consistently(
        lambda: get_user_model().objects.filter(username="late").exists()
    )
    assert seen is False  # not committed yet: the build cannot see it
    assert changes.changed_since(marker) is False
    release.set()
    thread.join(10)
    assert changes.changed_since(marker) is True


def _without_version(snapshot: dict) -> dict:
    return {k: v for k, v in snapshot.items() if k != "version"}


def _served(build):
    """What the engines load: the build's data JSON, parsed (patches reuse unchanged sections'
    JSON, so it must still be exactly the snapshot)."""
    return json.loads(build.data_json)["steward"]["snapshot"]


def test_grant_changes_patch_the_snapshot_and_match_a_full_build(leads, viewer, owner, settings):
    """Grants change most (requests, revocations, expiry): only the people whose grants
    changed are read again, and the result is what a full build gives."""
    from apps.access.models import Grant
    from apps.decisions.snapshot import build_snapshot

    settings.DECISION_SNAPSHOT_REFRESH_SECONDS = 0
    current_build()
    grant = GrantFactory(user=viewer, dataset=leads)
    patched = current_build()
    assert patched.incremental is True
    assert _without_version(patched.snapshot) == _without_version(build_snapshot())
    assert _served(patched) == patched.snapshot
    assert "user:vera" in patched.snapshot["grants"]
    assert _read("vera") is True

    Grant.objects.filter(pk=grant.pk).update(revoked_at=timezone.now())
    revoked = current_build()
    assert revoked.incremental is True
    assert "user:vera" not in revoked.snapshot["grants"]
    assert _without_version(revoked.snapshot) == _without_version(build_snapshot())
    assert _served(revoked) == revoked.snapshot
    assert _read("vera") is False

    # A dataset renamed (grants and bindings name it) rebuilds it all.
    Dataset.objects.filter(pk=leads.pk).update(fqn="crm.public.leads_v2")
    rebuilt = current_build()
    assert rebuilt.incremental is False
    assert "crm.public.leads_v2" in rebuilt.snapshot["datasets"]


def test_dataset_changes_patch_their_entries_and_match_a_full_build(leads, viewer, admin, settings):
    """A column classified, a viewer added, an owner changed: only those datasets' entries are
    read again. A dataset created, renamed or removed rebuilds everything."""
    from apps.catalog import services as catalog
    from apps.decisions.snapshot import build_snapshot
    from tests.factories import ColumnFactory, DatasetFactory

    settings.DECISION_SNAPSHOT_REFRESH_SECONDS = 0
    email = ColumnFactory(dataset=leads, name="email")
    current_build()

    catalog.column_classify(
        actor=admin, column=email, sensitivity="confidential", categories=["contact"]
    )
    classified = current_build()
    assert classified.incremental is True
    assert classified.snapshot["datasets"][leads.fqn]["columns"]["email"] == {
        "sensitivity": "confidential",
        "categories": ["contact"],
    }
    assert _without_version(classified.snapshot) == _without_version(build_snapshot())
    assert _served(classified) == classified.snapshot

    catalog.dataset_viewer_add(actor=admin, dataset=leads, user=viewer.username)
    Dataset.objects.filter(pk=leads.pk).update(owner=admin)  # owners live in the entry too
    viewed = current_build()
    assert viewed.incremental is True
    assert viewed.snapshot["datasets"][leads.fqn]["viewers"] == {"user:vera": True}
    assert viewed.snapshot["datasets"][leads.fqn]["owners"] == {"user:admin": "owner"}
    assert _without_version(viewed.snapshot) == _without_version(build_snapshot())
    assert _served(viewed) == viewed.snapshot

    contacts = DatasetFactory(source=leads.source, table_name="contacts", owner=viewer)
    created = current_build()  # a new dataset: nothing else names it yet, its entry is read
    assert created.incremental is True
    assert created.snapshot["datasets"][contacts.fqn]["owners"] == {"user:vera": "owner"}
    assert _without_version(created.snapshot) == _without_version(build_snapshot())
    assert _served(created) == created.snapshot
    assert _read("vera", contacts.fqn) is True

    # Removed (as a schema sync does: removed_at set): its entry and the grants on it go.
    from apps.access import services as access
    from apps.access.models import Role
    from tests.access.conftest import ensure_builtin_roles

    ensure_builtin_roles()
    GrantFactory(user=admin, dataset=contacts)
    GrantFactory(user=admin, dataset=leads)
    access.role_binding_create(
        actor=admin, role=Role.objects.get(key="analyst"), user=viewer, dataset=contacts
    )
    assert f"dataset:{contacts.fqn}" in current_build().snapshot["bindings"]["user:vera"]
    Dataset.objects.filter(pk=contacts.pk).update(removed_at=timezone.now())
    removed = current_build()
    assert removed.incremental is True
    assert contacts.fqn not in removed.snapshot["datasets"]
    assert list(removed.snapshot["grants"]["user:admin"]) == [leads.fqn]
    assert f"dataset:{contacts.fqn}" not in removed.snapshot["bindings"].get("user:vera", {})
    assert _without_version(removed.snapshot) == _without_version(build_snapshot())
    assert _served(removed) == removed.snapshot

    Dataset.objects.filter(pk=leads.pk).update(fqn="crm.public.leads_v2")  # renamed
    assert current_build().incremental is False


def test_membership_and_binding_changes_patch_principals_and_bindings(
    leads, viewer, admin, settings
):
    """Roles and bindings (and group memberships, superusers) read only those two sections
    again; a rename also reads the datasets and grants naming the person or group."""
    from django.contrib.auth.models import Group

    from apps.access import services as access
    from apps.access.models import Role
    from apps.decisions.snapshot import build_snapshot
    from tests.access.conftest import ensure_builtin_roles

    ensure_builtin_roles()  # (a transactional test's flush empties the migrated roles)
    settings.DECISION_SNAPSHOT_REFRESH_SECONDS = 0
    analysts = Group.objects.create(name="analysts")
    current_build()

    viewer.groups.add(analysts)
    access.role_binding_create(
        actor=admin, role=Role.objects.get(key="analyst"), group=analysts, dataset=leads
    )
    patched = current_build()
    assert patched.incremental is True
    assert patched.snapshot["principals"]["user:vera"]["groups"] == ["group:analysts"]
    assert patched.snapshot["bindings"]["group:analysts"] == {f"dataset:{leads.fqn}": ["data.read"]}
    assert _without_version(patched.snapshot) == _without_version(build_snapshot())
    assert _served(patched) == patched.snapshot
    assert _read("vera") is True

    get_user_model().objects.filter(pk=viewer.pk).update(is_superuser=True)
    promoted = current_build()
    assert promoted.incremental is True
    assert "admin" in promoted.snapshot["principals"]["user:vera"]["roles"]

    # Renames: every section naming the person or group is read again, old names dropped.
    GrantFactory(user=viewer, dataset=leads)
    Dataset.objects.filter(pk=leads.pk).update(owner_group=analysts)
    current_build()
    get_user_model().objects.filter(pk=viewer.pk).update(username="veronica")
    renamed = current_build()
    assert renamed.incremental is True
    assert "user:veronica" in renamed.snapshot["principals"]
    assert set(renamed.snapshot["grants"]) == {"user:veronica"}
    assert _without_version(renamed.snapshot) == _without_version(build_snapshot())
    assert _served(renamed) == renamed.snapshot
    assert _read("veronica") is True

    Group.objects.filter(pk=analysts.pk).update(name="analytics")
    regrouped = current_build()
    assert regrouped.incremental is True
    assert regrouped.snapshot["datasets"][leads.fqn]["owners"]["group:analytics"] == "owner"
    assert "group:analytics" in regrouped.snapshot["bindings"]
    assert _without_version(regrouped.snapshot) == _without_version(build_snapshot())
    assert _served(regrouped) == regrouped.snapshot

    Group.objects.filter(pk=analysts.pk).delete()
    assert current_build().incremental is False


def test_deactivating_a_person_patches_everything_that_names_them(leads, viewer, settings):
    """A deactivation (as the admin site saves it: every column) reads again the principals,
    that person's grants and the datasets naming them, and denies them at once; reactivating
    brings it all back; a save that changes nothing decisions read rebuilds nothing."""
    from guardian.shortcuts import assign_perm

    from apps.decisions.snapshot import build_snapshot

    settings.DECISION_SNAPSHOT_REFRESH_SECONDS = 0
    other = Dataset.objects.create(
        source=leads.source, schema_name="public", table_name="accounts", steward=viewer
    )
    assign_perm("catalog.view_dataset", viewer, leads)
    GrantFactory(user=viewer, dataset=leads)
    first = current_build()
    assert _read("vera") is True
    assert first.snapshot["datasets"][other.fqn]["owners"] == {"user:vera": "steward"}

    viewer.first_name = "Vera"
    viewer.save()  # every column written, none that decisions read changed
    assert current_build() is first

    viewer.is_active = False
    viewer.save()
    off = current_build()
    assert off.incremental is True
    assert "user:vera" not in off.snapshot["principals"]
    assert "user:vera" not in off.snapshot["grants"]
    assert off.snapshot["datasets"][other.fqn]["owners"] == {}
    assert "user:vera" not in off.snapshot["datasets"][leads.fqn]["viewers"]
    assert _without_version(off.snapshot) == _without_version(build_snapshot())
    assert _served(off) == off.snapshot
    assert _read("vera") is False

    viewer.is_active = True
    viewer.save()
    on = current_build()
    assert on.incremental is True
    assert _without_version(on.snapshot) == _without_version(build_snapshot())
    assert _served(on) == on.snapshot
    assert _read("vera") is True


def _tracked_ids() -> set[int]:
    """The objects the cycle collector scans (``gc.get_objects`` leaves out frozen ones)."""
    import gc

    return {id(o) for o in gc.get_objects()}


def test_a_full_build_is_frozen_out_of_the_cycle_collector_and_a_patch_is_not(leads, viewer):
    """At size a build is ~1M dicts: a full build is frozen so no later collection scans it
    again; a patch (a few objects) is left to the collector; either way it is on afterwards."""
    import gc

    from apps.decisions.services import _rebuilt

    frozen = gc.get_freeze_count()
    full = _rebuilt(None)
    assert full.incremental is False
    assert gc.isenabled()
    assert gc.get_freeze_count() > frozen
    tracked = _tracked_ids()
    assert id(full.snapshot["datasets"]) not in tracked
    assert id(full.snapshot["datasets"]["crm.public.leads"]) not in tracked

    GrantFactory(user=viewer, dataset=leads)
    frozen = gc.get_freeze_count()
    patched = _rebuilt(full)
    assert patched.incremental is True
    assert gc.isenabled()
    assert gc.get_freeze_count() <= frozen  # nothing frozen (frozen objects may be freed)
    assert id(patched.snapshot["grants"]) in _tracked_ids()
    assert patched.snapshot["datasets"] is full.snapshot["datasets"]  # kept, still frozen


def test_a_build_leaves_the_collector_off_when_it_was_off(leads):
    import gc

    from apps.decisions.services import _rebuilt

    gc.disable()
    try:
        _rebuilt(None)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_after_a_patch_engines_keep_their_data_and_requests_carry_the_change(
    leads, viewer, owner, settings
):
    """Loading the snapshot stalls a process, so a patch does not make engines load it again:
    a request that reads a changed entry carries it, and the answer is the change's."""
    from apps.access.models import Grant
    from apps.decisions import services

    settings.DECISION_SNAPSHOT_REFRESH_SECONDS = 0
    assert _read("vera") is False
    engine, base = services._state.engine, current_build()
    grant = GrantFactory(user=viewer, dataset=leads)
    patched = current_build()
    assert patched.base is base
    assert patched.changed["grants"] == {"user:vera"}
    assert _read("vera") is True
    assert _read("olivia") is True  # unchanged entries: from the engine's data
    Grant.objects.filter(pk=grant.pk).update(revoked_at=timezone.now())
    assert _read("vera") is False
    assert services._state.engine is engine  # the same engine, its data never reloaded
    assert current_build().base is base


def test_engines_due_to_load_the_snapshot_again_do_it_after_a_response(leads, viewer, settings):
    """Once more than DECISION_DELTA_MAX_KEYS entries changed since their copy, the next
    response's end (Django's request_finished) makes the current build the engines' base and
    loads it, so no request waits for the load."""
    from django.core.signals import request_finished

    from apps.decisions import services

    settings.DECISION_SNAPSHOT_REFRESH_SECONDS = 0
    assert _read("vera") is False
    engine = services._state.engine
    GrantFactory(user=viewer, dataset=leads)
    patched = current_build()
    assert patched.base is not None
    request_finished.send(sender=None)
    assert current_build().base is not None  # one key changed: not due, nothing happens
    assert services._state.engine is engine
    settings.DECISION_DELTA_MAX_KEYS = 0
    request_finished.send(sender=None)
    rebased = current_build()
    assert rebased.base is None
    assert rebased.version == patched.version  # the same snapshot, now the engines' own copy
    assert _served(rebased) == rebased.snapshot  # written from the texts of the one they had
    assert services._state.engine is not engine  # loaded by the signal, not by a decision
    assert services._state.version == rebased.version
    loaded = services._state.engine
    assert _read("vera") is True
    assert services._state.engine is loaded


def test_a_patch_makes_engines_load_the_snapshot_far_past_the_limit(leads, viewer, owner, settings):
    """Where no request finishes to do it (a worker process deciding), a patch does, past four
    times the limit."""
    from apps.decisions import services

    settings.DECISION_SNAPSHOT_REFRESH_SECONDS = 0
    settings.DECISION_DELTA_MAX_KEYS = 0
    assert _read("vera") is False
    engine = services._state.engine
    GrantFactory(user=viewer, dataset=leads)
    assert _read("vera") is True
    assert current_build().base is None  # 1 key > 4 x 0
    assert services._state.engine is not engine  # loaded again, with the grant in its data
    assert services._state.version == current_build().version


# A package that reads the governance snapshot: invoices for whoever holds a grant.
GRANTEES = {
    "grantees.rego": """package steward.ext.billing

import rego.v1

default decision := {"allow": false, "reasons": ["no_grant"], "obligations": {}}

decision := {"allow": true, "reasons": ["grantee"], "obligations": {}} if {
	count(data.steward.snapshot.grants[concat(":", ["user", input.subject.id])]) > 0
}
""",
    "grantees_test.rego": """package steward.ext.billing_test

import rego.v1

test_no_grant_no_invoice if {
	not data.steward.ext.billing.decision.allow with input as {"subject": {"id": "stan"}}
}
""",
}


def test_a_package_that_reads_the_snapshot_loads_the_current_one_which_then_serves_governance(
    leads, viewer, admin, settings
):
    """A package that may read the snapshot reads it as the engine holds it, so after a change
    its decision loads the current build; governance decisions keep using that engine (a later
    build of the same base) rather than going back to the base."""
    from apps.access.models import Grant
    from apps.decisions import services
    from tests.decisions.test_packages import _invoice, _load

    _load(admin, files=GRANTEES)
    settings.DECISION_SNAPSHOT_REFRESH_SECONDS = 0
    assert _read("vera") is False
    assert decision_evaluate(caller="svc", request=_invoice("vera")).allow is False
    GrantFactory(user=viewer, dataset=leads)
    patched = current_build()
    assert patched.base is not None
    assert decision_evaluate(caller="svc", request=_invoice("vera")).allow is True
    engine = services._state.engine
    assert services._state.version == patched.version
    Grant.objects.filter(user=viewer).update(revoked_at=timezone.now())
    assert current_build().base is patched.base  # a later build of the same base
    assert _read("vera") is False
    assert services._state.engine is engine
    assert decision_evaluate(caller="svc", request=_invoice("vera")).allow is False
    assert services._state.version == current_build().version


def test_a_package_that_cannot_read_the_snapshot_decides_on_the_engine_it_has(
    leads, viewer, admin, settings
):
    """The example package reads only its own data: a change to the catalog loads nothing for
    its decisions, and a change to the package itself (a full rebuild) does."""
    from apps.decisions import services
    from tests.decisions.test_packages import _invoice, _load

    _load(admin)
    settings.DECISION_SNAPSHOT_REFRESH_SECONDS = 0
    assert decision_evaluate(caller="svc", request=_invoice("carla")).allow is True
    engine, version = services._state.engine, services._state.version
    GrantFactory(user=viewer, dataset=leads)
    assert current_build().base is not None
    assert decision_evaluate(caller="svc", request=_invoice("carla")).allow is True
    assert decision_evaluate(caller="svc", request=_invoice("vera")).allow is False
    assert _read("vera") is True  # governance sees the grant, from the same engine
    assert (services._state.engine, services._state.version) == (engine, version)
    _load(admin, data={"clerks": ["vera"]})
    assert decision_evaluate(caller="svc", request=_invoice("vera")).allow is True
    assert services._state.engine is not engine


def test_a_usage_policy_set_in_the_catalog_is_enforced_without_loading_the_snapshot(
    leads, viewer, admin, settings
):
    """Purposes and a row filter edited on a dataset reach decisions through a patch: the
    request carries the dataset's entry, so the engine keeps its copy."""
    from django.contrib.auth.models import Group

    from apps.catalog import services as catalog
    from apps.decisions import services
    from tests.factories import ColumnFactory

    settings.DECISION_SNAPSHOT_REFRESH_SECONDS = 0
    ColumnFactory(dataset=leads, name="region")
    emea = Group.objects.create(name="emea")
    viewer.groups.add(emea)
    catalog.dataset_viewer_add(actor=admin, dataset=leads, user=viewer.username)

    def decide(purpose=None):
        context = {"purpose": purpose} if purpose else {}
        return decision_evaluate(
            caller="svc",
            request={
                "subject": {"type": "user", "id": "vera"},
                "action": {"name": "read"},
                "resource": {"type": "dataset", "id": "crm.public.leads"},
                "context": context,
            },
        )

    assert decide().obligations == {"mask": {}}
    engine = services._state.engine
    catalog.dataset_update(
        actor=admin,
        dataset=leads,
        purposes=["support"],
        row_filter={"column": "region", "rules": [{"group": "emea", "values": ["EU", "UK"]}]},
    )
    assert current_build().base is not None  # patched
    assert decide().reasons == ["purpose_not_allowed"]
    allowed = decide("support")
    assert (allowed.allow, allowed.obligations["row_filter"]) == (
        True,
        {"column": "region", "in": ["EU", "UK"]},
    )
    viewer.groups.remove(emea)
    denied = decide("support")
    assert (denied.allow, denied.reasons) == (False, ["row_filter_no_rows"])
    assert services._state.engine is engine
