package steward.access.approval_test

import rego.v1

import data.steward.access.approval

levels := {"public": 10, "internal": 20, "confidential": 30, "restricted": 40}

ask(sensitivity, access, hours, team_member) := {
	"request": {"access": access, "duration_seconds": hours * 3600, "purpose": "quarterly report", "columns": []},
	"requester": {"id": "user:ana", "team_member": team_member, "roles": []},
	"dataset": {"fqn": "crm.public.t", "sensitivity": sensitivity},
	"levels": levels,
}

test_public_read_is_approved_at_once if {
	o := approval.outcome with input as ask("public", "read", 24, false)
	o.result == "approve"
	o.reasons == ["public_read"]
	o.approvals_required == 0
}

test_internal_read_by_a_team_member_for_a_day_is_approved_at_once if {
	o := approval.outcome with input as ask("internal", "read", 24, true)
	o.result == "approve"
	o.reasons == ["team_member_internal_read"]
}

test_internal_read_by_an_outsider_needs_one_approval if {
	o := approval.outcome with input as ask("internal", "read", 24, false)
	o.result == "review"
	o.approvals_required == 1
	o.reasons == ["owner_approval_required"]
}

test_internal_read_by_a_team_member_for_two_weeks_needs_approval if {
	o := approval.outcome with input as ask("internal", "read", 14 * 24, true)
	o.result == "review"
	o.approvals_required == 1
}

test_internal_write_by_a_team_member_needs_approval if {
	o := approval.outcome with input as ask("internal", "write", 1, true)
	o.result == "review"
}

test_confidential_needs_one_approval_even_for_the_team if {
	o := approval.outcome with input as ask("confidential", "read", 1, true)
	o.result == "review"
	o.approvals_required == 1
}

test_restricted_needs_two_approvals if {
	o := approval.outcome with input as ask("restricted", "read", 4, true)
	o.result == "review"
	o.approvals_required == 2
	o.reasons == ["two_approvals_for_restricted_data"]
}

test_unknown_sensitivity_is_treated_as_restricted if {
	o := approval.outcome with input as ask("secret-ish", "read", 4, true)
	o.result == "review"
	o.approvals_required == 2
	o.max_duration_seconds == 24 * 3600
}

test_duration_beyond_the_maximum_is_refused if {
	o := approval.outcome with input as ask("confidential", "read", 8 * 24, false)
	o.result == "refuse"
	o.reasons == ["duration_exceeds_maximum"]
	o.max_duration_seconds == 7 * 24 * 3600
}

test_export_of_restricted_data_is_refused if {
	o := approval.outcome with input as ask("restricted", "export", 1, false)
	o.result == "refuse"
	o.reasons == ["export_of_restricted_data"]
}

test_unknown_access_level_is_refused if {
	o := approval.outcome with input as ask("public", "delete", 1, false)
	o.result == "refuse"
	"unknown_access_level" in o.reasons
}

test_a_blank_purpose_is_refused if {
	req := json.patch(ask("public", "read", 1, false), [{"op": "replace", "path": "/request/purpose", "value": "  "}])
	o := approval.outcome with input as req
	o.result == "refuse"
	o.reasons == ["purpose_required"]
}

test_zero_duration_is_refused if {
	o := approval.outcome with input as ask("public", "read", 0, false)
	o.result == "refuse"
	o.reasons == ["invalid_duration"]
}

test_a_row_filter_that_would_show_the_requester_no_rows_is_refused if {
	i := object.union(ask("public", "read", 24, false), {"dataset": {"fqn": "crm.public.t", "sensitivity": "public", "row_filter": true, "requester_has_rows": false}})
	o := approval.outcome with input as i
	o.result == "refuse"
	o.reasons == ["row_filter_no_rows"]
}

test_a_row_filter_naming_the_requester_changes_nothing if {
	i := object.union(ask("public", "read", 24, false), {"dataset": {"fqn": "crm.public.t", "sensitivity": "public", "row_filter": true, "requester_has_rows": true}})
	o := approval.outcome with input as i
	o.result == "approve"
}
