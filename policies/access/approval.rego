# The approval decision for a just-in-time access request: approve at once, ask for approvals,
# or refuse.
#
# input:
#   {"request": {"access": "read"|"write"|"export", "duration_seconds": n, "purpose": s,
#                "columns": [names]},
#    "requester": {"id": "user:<name>", "team_member": bool, "roles": [keys]},
#    "dataset": {"fqn": s, "sensitivity": key, "row_filter": bool, "requester_has_rows": bool},
#    "levels": {key: rank}}
# outcome:
#   {"result": "approve"|"review"|"refuse", "approvals_required": n,
#    "max_duration_seconds": n, "reasons": [codes]}
#
# Unknown or missing values never approve: `approve` needs positive matches, and anything the
# policy cannot place falls through to review by the strictest rule or to a refusal.
package steward.access.approval

import rego.v1

hour := 3600

day := 24 * hour

# The longest a grant may last, by the dataset's sensitivity. Unknown sensitivity: the shortest.
max_duration := {"public": 90 * day, "internal": 30 * day, "confidential": 7 * day, "restricted": 1 * day}

max_duration_seconds := max_duration[input.dataset.sensitivity]

max_duration_seconds := max_duration.restricted if not max_duration[input.dataset.sensitivity]

access_levels := {"read", "write", "export"}

rank(key) := input.levels[key]

# Above "internal" (or unknown) counts as sensitive.
sensitive if not rank(input.dataset.sensitivity) <= rank("internal")

restricted if rank(input.dataset.sensitivity) >= rank("restricted")

restricted if not rank(input.dataset.sensitivity)

# --- refusals --------------------------------------------------------------------------------

refusals contains "unknown_access_level" if not input.request.access in access_levels

refusals contains "duration_exceeds_maximum" if input.request.duration_seconds > max_duration_seconds

refusals contains "invalid_duration" if not input.request.duration_seconds > 0

refusals contains "purpose_required" if not count(trim_space(input.request.purpose)) > 0

# The dataset filters rows and no rule names the requester or a group of theirs: a grant would
# show them no rows (the governance decision denies it, row_filter_no_rows).
refusals contains "row_filter_no_rows" if {
	input.dataset.row_filter == true
	input.dataset.requester_has_rows == false
}

refusals contains "export_of_restricted_data" if {
	input.request.access == "export"
	restricted
}

# --- approval rules --------------------------------------------------------------------------

# Public data, read, for anyone: no one needs to look at it.
auto_reasons contains "public_read" if {
	input.request.access == "read"
	rank(input.dataset.sensitivity) <= rank("public")
}

# Internal data, read, for a member of the owning team, for at most a week.
auto_reasons contains "team_member_internal_read" if {
	input.request.access == "read"
	not sensitive
	input.requester.team_member == true
	input.request.duration_seconds <= 7 * day
}

approvals_required := 2 if restricted

approvals_required := 1 if not restricted

result := "refuse" if count(refusals) > 0

result := "approve" if {
	count(refusals) == 0
	count(auto_reasons) > 0
}

result := "review" if {
	count(refusals) == 0
	count(auto_reasons) == 0
}

reasons := sort([r | some r in refusals]) if result == "refuse"

reasons := sort([r | some r in auto_reasons]) if result == "approve"

reasons := ["two_approvals_for_restricted_data"] if {
	result == "review"
	restricted
}

reasons := ["owner_approval_required"] if {
	result == "review"
	not restricted
}

outcome := {
	"result": result,
	"approvals_required": approvals_required_value,
	"max_duration_seconds": max_duration_seconds,
	"reasons": reasons,
}

approvals_required_value := 0 if result != "review"

approvals_required_value := approvals_required if result == "review"
