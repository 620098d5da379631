package steward.governance_test

import rego.v1

import data.steward.governance

snapshot := {
	"version": 1,
	"levels": {"public": 10, "internal": 20, "confidential": 30, "restricted": 40},
	"default_clearance": "internal",
	"principals": {
		"user:olivia": {"groups": ["group:growth"], "roles": [], "clearance": "restricted"},
		"user:vera": {"groups": [], "roles": ["analyst"]},
		"user:ada": {"groups": [], "roles": ["admin"]},
		"user:gil": {"groups": ["group:growth"], "roles": [], "clearance": "confidential"},
		"user:tom": {"groups": [], "roles": [], "clearance": "confidential"},
		"user:rita": {"groups": ["group:analysts"], "roles": []},
		"user:cole": {"groups": [], "roles": []},
	},
	"bindings": {
		"group:analysts": {"source:web": ["data.read"]},
		"user:rita": {"dataset:crm.public.customers": ["data.read"]},
	},
	"datasets": {
		"crm.public.customers": {
			"source": "crm",
			"sensitivity": "restricted",
			"owners": {"user:olivia": "owner"},
			"viewers": {},
			"purposes": [],
			"columns": {
				"id": {"sensitivity": "internal", "categories": []},
				"email": {"sensitivity": "confidential", "categories": ["contact"]},
				"ssn": {"sensitivity": "restricted", "categories": ["government-id"]},
			},
		},
		"web.public.page_views": {
			"source": "web",
			"sensitivity": "internal",
			"owners": {"group:growth": "owner"},
			"viewers": {"user:vera": true},
			"purposes": ["analytics"],
			"columns": {"ip": {"sensitivity": "confidential", "categories": ["online-id"]}},
		},
		"sales.public.orders": {
			"source": "sales",
			"sensitivity": "internal",
			"owners": {"user:olivia": "owner"},
			"viewers": {"group:analysts": true, "user:vera": true, "user:cole": true},
			"purposes": [],
			"columns": {"region": {"sensitivity": "internal", "categories": []}},
			"row_filter": {"column": "region", "values": {
				"group:analysts": ["UK", "EU"],
				"user:rita": ["US", "EU"],
				"user:vera": ["EU"],
			}},
		},
		"sales.public.legacy": {
			"source": "sales",
			"sensitivity": "internal",
			"owners": {"user:olivia": "owner"},
			"viewers": {"user:vera": true},
			"purposes": [],
			"columns": {"id": {"sensitivity": "internal", "categories": []}},
			"row_filter": {"column": "region", "values": {"user:vera": ["EU"]}},
		},
	},
	"grants": {
		"user:tom": {"crm.public.customers": {
			"g1": {"access": "read", "columns": [], "expires_at_ns": time.parse_rfc3339_ns("2026-11-22T12:00:00Z")},
		}},
		"user:cole": {
			"crm.public.customers": {
				"g2": {"access": "read", "columns": ["email"], "expires_at_ns": time.parse_rfc3339_ns("2026-11-22T12:00:00Z")},
			},
			"sales.public.orders": {
				"g3": {"access": "read", "columns": [], "rows": ["APAC"], "expires_at_ns": time.parse_rfc3339_ns("2026-11-22T12:00:00Z")},
				"g4": {"access": "read", "columns": [], "rows": ["LATAM"], "expires_at_ns": time.parse_rfc3339_ns("2026-11-22T09:00:00Z")},
			},
		},
	},
}

req(subject, action, resource, ctx) := {
	"subject": {"type": "user", "id": subject},
	"action": {"name": action},
	"resource": {"type": "dataset", "id": resource},
	"context": object.union({"time": "2026-11-22T10:00:00Z"}, ctx),
}

decide(i) := d if {
	d := governance.decision with input as i with data.steward.snapshot as snapshot
}

test_owner_reads_everything_unmasked if {
	d := decide(req("olivia", "read", "crm.public.customers", {}))
	d.allow
	d.reasons == ["owner"]
	d.obligations.mask == {}
}

test_group_ownership_counts if {
	d := decide(req("gil", "write", "web.public.page_views", {"purpose": "analytics"}))
	d.allow
	d.reasons == ["owner"]
}

test_viewer_may_read_with_an_allowed_purpose_and_sees_masks if {
	d := decide(req("vera", "read", "web.public.page_views", {"purpose": "analytics"}))
	d.allow
	d.reasons == ["viewer"]
	d.obligations.mask == {"ip": "hash"}
}

test_viewer_may_not_write if {
	d := decide(req("vera", "write", "web.public.page_views", {"purpose": "analytics"}))
	not d.allow
	d.reasons == ["no_access"]
}

test_a_purpose_outside_the_allowed_list_is_denied if {
	d := decide(req("vera", "read", "web.public.page_views", {"purpose": "marketing"}))
	not d.allow
	d.reasons == ["purpose_not_allowed"]
}

test_a_missing_purpose_is_denied_where_purposes_are_listed if {
	d := decide(req("vera", "read", "web.public.page_views", {}))
	not d.allow
	d.reasons == ["purpose_not_allowed"]
}

test_an_active_grant_admits_above_clearance_with_masks if {
	d := decide(req("tom", "read", "crm.public.customers", {}))
	d.allow
	d.reasons == ["grant"]
	d.obligations.mask == {"ssn": "redact"}
}

test_a_grant_does_not_cover_a_higher_access if {
	d := decide(req("tom", "export", "crm.public.customers", {}))
	not d.allow
	d.reasons == ["clearance_insufficient"]
}

test_a_grant_stops_exactly_at_its_expiry if {
	at := decide(req("tom", "read", "crm.public.customers", {"time": "2026-11-22T12:00:00Z"}))
	not at.allow
	at.reasons == ["clearance_insufficient"]
	before := decide(req("tom", "read", "crm.public.customers", {"time": "2026-11-22T11:59:59.999Z"}))
	before.allow
}

test_admin_role_admits if {
	d := decide(req("ada", "export", "crm.public.customers", {}))
	d.allow
	d.reasons == ["role_admin"]
}

test_no_relationship_is_no_access if {
	d := decide(req("vera", "read", "crm.public.customers", {}))
	not d.allow
	d.reasons == ["clearance_insufficient"]
}

test_unknowns_are_denied_with_reasons if {
	ds := decide(req("olivia", "read", "crm.public.nope", {}))
	not ds.allow
	"unknown_dataset" in ds.reasons
	who := decide(req("mallory", "read", "crm.public.customers", {}))
	not who.allow
	"unknown_principal" in who.reasons
	act := decide(req("olivia", "delete", "crm.public.customers", {}))
	not act.allow
	act.reasons == ["unknown_action"]
}

test_a_malformed_time_is_denied if {
	d := decide(req("olivia", "read", "crm.public.customers", {"time": "yesterday"}))
	not d.allow
	every malformed in ["2026-11-22 10:00:00Z", "2026-11-22T10:00Z", "2026-11-22T10:00:00", "2026-11-22T10:00:00.1234567890Z"] {
		decide(req("olivia", "read", "crm.public.customers", {"time": malformed})).reasons == ["invalid_time"]
	}
}

test_every_rfc3339_form_is_read if {
	every at in ["2026-11-22T10:00:00Z", "2026-11-22T11:30:00.5+01:30", "2026-11-22T05:00:00.123456789-05:00"] {
		decide(req("olivia", "read", "crm.public.customers", {"time": at})).allow
	}
}

test_without_a_default_clearance_nothing_classified_is_cleared if {
	no_default := object.remove(snapshot, ["default_clearance"])
	d := governance.decision with input as req("vera", "read", "web.public.page_views", {"purpose": "analytics"})
		with data.steward.snapshot as no_default
	not d.allow
	d.reasons == ["clearance_insufficient"]
}

test_a_grant_naming_columns_unmasks_only_those if {
	d := decide(req("cole", "read", "crm.public.customers", {}))
	d.allow
	d.reasons == ["grant"]
	d.obligations.mask == {"ssn": "redact"}
}

# The request names the columns its query reads (AuthZEN resource.properties.columns).
reading(i, columns) := object.union(i, {"resource": {"properties": {"columns": columns}}})

test_masks_cover_only_the_columns_a_request_names if {
	every columns in [["id", "email"], ["email"], []] {
		decide(reading(req("tom", "read", "crm.public.customers", {}), columns)).obligations.mask == {}
	}
	d := decide(reading(req("tom", "read", "crm.public.customers", {}), ["id", "ssn"]))
	d.allow
	d.reasons == ["grant"]
	d.obligations.mask == {"ssn": "redact"}
}

test_a_named_column_the_catalog_does_not_hold_is_redacted if {
	d := decide(reading(req("tom", "read", "crm.public.customers", {}), ["phone", "id"]))
	d.allow
	d.obligations.mask == {"phone": "redact"}
	owner := decide(reading(req("olivia", "read", "crm.public.customers", {}), ["phone"]))
	owner.obligations.mask == {}
	admin := decide(reading(req("ada", "read", "crm.public.customers", {}), ["phone"]))
	admin.obligations.mask == {}
}

test_a_grant_naming_a_column_unmasks_it_when_named if {
	d := decide(reading(req("cole", "read", "crm.public.customers", {}), ["email", "ssn"]))
	d.obligations.mask == {"ssn": "redact"}
}

test_columns_not_given_as_a_list_of_names_mask_as_if_absent if {
	every columns in ["ssn", {"a": "id"}, null] {
		d := decide(reading(req("tom", "read", "crm.public.customers", {}), columns))
		d.obligations.mask == {"ssn": "redact"}
	}
	d := decide(reading(req("tom", "read", "crm.public.customers", {}), ["id", 7]))
	d.obligations.mask == {}
}

test_naming_columns_does_not_change_who_is_allowed if {
	d := decide(reading(req("vera", "read", "crm.public.customers", {}), ["id"]))
	not d.allow
	d.reasons == ["clearance_insufficient"]
	not d.obligations.mask.id
}

test_only_datasets_are_decided_here if {
	table := object.union(req("olivia", "read", "crm.public.customers", {}), {"resource": {"type": "table"}})
	t := decide(table)
	not t.allow
	t.reasons == ["unknown_resource_type"]
	untyped := decide(object.remove(req("ada", "read", "crm.public.customers", {}), ["resource"]))
	not untyped.allow
	"unknown_resource_type" in untyped.reasons
}

test_a_role_on_the_source_admits_within_clearance if {
	d := decide(req("rita", "read", "web.public.page_views", {"purpose": "analytics"}))
	d.allow
	d.reasons == ["role"]
	d.obligations.mask == {"ip": "hash"}
}

test_a_role_does_not_lift_clearance if {
	d := decide(req("rita", "read", "crm.public.customers", {}))
	not d.allow
	d.reasons == ["clearance_insufficient"]
}

test_a_role_admits_only_the_actions_it_names if {
	d := decide(req("rita", "write", "web.public.page_views", {"purpose": "analytics"}))
	not d.allow
	d.reasons == ["no_access"]
}

test_a_role_on_another_source_does_not_admit if {
	other := json.patch(snapshot, [{"op": "replace", "path": "/bindings/group:analysts", "value": {"source:crm": ["data.read"]}}])
	d := governance.decision with input as req("rita", "read", "web.public.page_views", {"purpose": "analytics"})
		with data.steward.snapshot as other
	not d.allow
	d.reasons == ["no_access"]
}

# Entries changed since the engine loaded its snapshot, given with the request.
revoked_for_tom := object.union(req("tom", "read", "crm.public.customers", {}), {"delta": {
	"principals": {"user:tom": snapshot.principals["user:tom"]},
	"datasets": {"crm.public.customers": snapshot.datasets["crm.public.customers"]},
	"bindings": {},
	"grants": {},
}})

test_entries_given_with_the_request_are_read_where_the_data_allows_it if {
	decide(req("tom", "read", "crm.public.customers", {})).allow
	d := governance.decision with input as revoked_for_tom
		with data.steward.snapshot as snapshot
		with data.steward.embedded.input_delta as true
	not d.allow
	d.reasons == ["clearance_insufficient"]
}

test_entries_given_with_the_request_are_ignored_otherwise if {
	d := decide(revoked_for_tom)
	d.allow
	d.reasons == ["grant"]
}

test_a_row_filter_shows_the_rows_of_the_principal_and_its_groups if {
	d := decide(req("rita", "read", "sales.public.orders", {}))
	d.allow
	d.obligations.row_filter == {"column": "region", "in": ["EU", "UK", "US"]}
	e := decide(req("vera", "read", "sales.public.orders", {}))
	e.allow
	e.obligations.row_filter == {"column": "region", "in": ["EU"]}
}

test_owners_and_admins_see_every_row if {
	d := decide(req("olivia", "read", "sales.public.orders", {}))
	d.allow
	not d.obligations.row_filter
	e := decide(req("ada", "read", "sales.public.orders", {}))
	e.allow
	not e.obligations.row_filter
}

test_a_row_filter_that_shows_no_rows_is_a_deny if {
	d := decide(req("vera", "read", "sales.public.orders", {"time": "2026-11-22T13:00:00Z"}))
	d.allow
	e := decide(req("cole", "read", "sales.public.orders", {"time": "2026-11-22T13:00:00Z"}))
	not e.allow
	e.reasons == ["row_filter_no_rows"]
	not e.obligations.row_filter
}

test_an_active_grant_adds_the_rows_it_lists if {
	d := decide(req("cole", "read", "sales.public.orders", {}))
	d.allow
	d.obligations.row_filter == {"column": "region", "in": ["APAC"]} # LATAM's grant expired
}

test_without_access_the_row_filter_is_not_the_reason if {
	d := decide(req("tom", "read", "sales.public.orders", {}))
	not d.allow
	d.reasons == ["no_access"]
}

test_a_row_filter_whose_column_is_gone_is_a_deny if {
	d := decide(req("vera", "read", "sales.public.legacy", {}))
	not d.allow
	d.reasons == ["row_filter_column_missing"]
}

test_datasets_without_a_row_filter_have_none if {
	d := decide(req("vera", "read", "web.public.page_views", {"purpose": "analytics"}))
	d.allow
	object.keys(d.obligations) == {"mask"}
}
