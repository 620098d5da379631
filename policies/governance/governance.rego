# The governance decision: may a principal perform an action on a dataset, for a purpose?
#
# Reads input (AuthZEN: subject, action, resource of type "dataset" with, optionally, the
# columns its query reads in resource.properties.columns, context) and data.steward.snapshot
# (the governance snapshot, every collection keyed by id). Produces one `decision` object:
#   {"allow": bool, "reasons": [codes],
#    "obligations": {"mask": {column: method}, "row_filter"?: {"column": name, "in": [values]}}}
#
# Written so that an undefined value never turns into an allow: every allow path is a positive
# match, and missing data (unknown dataset, principal, time) leaves `allow` false.
package steward.governance

import rego.v1

# The snapshot, or what the embedded engine gives with a request when entries the request reads
# changed since the engine loaded its copy: loading the whole snapshot again takes ~0.3 s at 10k
# datasets / 100k grants and stalls the process, so the engine does it only now and then, and
# meanwhile a request touching a changed entry carries `input.delta`, the entries it reads as
# they are now: its principal, the dataset, and the bindings and grants on that dataset of the
# principal and its groups (each absent when there is none). Honoured only where the engine's
# data says so: a bundle never does, so a caller asking an OPA that holds it cannot forge one.
snapshot := data.steward.snapshot if not delta

snapshot := {
	"levels": data.steward.snapshot.levels,
	"default_clearance": object.get(data.steward.snapshot, "default_clearance", null),
	"principals": delta.principals,
	"bindings": delta.bindings,
	"datasets": delta.datasets,
	"grants": delta.grants,
} if delta

delta := input.delta if data.steward.embedded.input_delta == true

access_rank := {"read": 1, "write": 2, "export": 3}

principal_id := sprintf("%s:%s", [input.subject.type, input.subject.id])

principal := snapshot.principals[principal_id]

dataset := snapshot.datasets[input.resource.id] if input.resource.type == "dataset"

action_rank := access_rank[input.action.name]

# The principal and the groups it belongs to: every id a rule may name.
identities contains principal_id

identities contains group if some group in principal.groups

# Request time (RFC 3339 in context.time) or now. Expiry is checked against it here, so an
# expired grant is denied even if no cleanup has run.
# The format is checked first: engines disagree on whether a parse error is undefined or an
# error, and an unparseable time must simply leave the decision a deny.
now_ns := time.parse_rfc3339_ns(input.context.time) if {
	is_string(input.context.time)
	strings.replace_n(digit_zero, input.context.time) in time_shapes
}

# The format is what the pattern ^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d)$ admits,
# checked as the text with each ASCII digit written 0 being one of its 30 shapes: regorus compiles
# a regex on every call, ~6 us of a ~50 us decision, where this takes ~1 us.
digit_zero := {"1": "0", "2": "0", "3": "0", "4": "0", "5": "0", "6": "0", "7": "0", "8": "0", "9": "0"}

time_shapes := {
	"0000-00-00T00:00:00Z", "0000-00-00T00:00:00+00:00", "0000-00-00T00:00:00-00:00",
	"0000-00-00T00:00:00.0Z", "0000-00-00T00:00:00.0+00:00", "0000-00-00T00:00:00.0-00:00",
	"0000-00-00T00:00:00.00Z", "0000-00-00T00:00:00.00+00:00", "0000-00-00T00:00:00.00-00:00",
	"0000-00-00T00:00:00.000Z", "0000-00-00T00:00:00.000+00:00", "0000-00-00T00:00:00.000-00:00",
	"0000-00-00T00:00:00.0000Z", "0000-00-00T00:00:00.0000+00:00", "0000-00-00T00:00:00.0000-00:00",
	"0000-00-00T00:00:00.00000Z", "0000-00-00T00:00:00.00000+00:00", "0000-00-00T00:00:00.00000-00:00",
	"0000-00-00T00:00:00.000000Z", "0000-00-00T00:00:00.000000+00:00", "0000-00-00T00:00:00.000000-00:00",
	"0000-00-00T00:00:00.0000000Z", "0000-00-00T00:00:00.0000000+00:00", "0000-00-00T00:00:00.0000000-00:00",
	"0000-00-00T00:00:00.00000000Z", "0000-00-00T00:00:00.00000000+00:00", "0000-00-00T00:00:00.00000000-00:00",
	"0000-00-00T00:00:00.000000000Z", "0000-00-00T00:00:00.000000000+00:00", "0000-00-00T00:00:00.000000000-00:00",
}

now_ns := time.now_ns() if not input.context.time

level(key) := snapshot.levels[key]

# A principal without a clearance of its own gets the snapshot's default clearance; with no
# usable default either, it is cleared for nothing (every classified dataset is above it).
clearance_rank := level(principal.clearance)

clearance_rank := level(snapshot.default_clearance) if not principal.clearance

clearance_rank := -1 if {
	not principal.clearance
	not level(snapshot.default_clearance)
}

is_owner if {
	some id in identities
	dataset.owners[id]
}

is_admin if "admin" in principal.roles

# Role bindings: the data permission an action needs, held everywhere, on the dataset's
# source, or on the dataset itself.
data_permission := {"read": "data.read", "write": "data.write", "export": "data.export"}

binding_scopes := {"*", sprintf("source:%s", [dataset.source]), sprintf("dataset:%s", [input.resource.id])}

# (The first line skips an identity without bindings before the scopes are built: most hold
# none, and it takes ~7 us off a decision in regorus's compiled mode, bench/decisions.py.)
role_permits if {
	some id in identities
	snapshot.bindings[id]
	some scope in binding_scopes
	data_permission[input.action.name] in snapshot.bindings[id][scope]
}

active_grants contains grant if {
	some id in identities
	some grant in snapshot.grants[id][input.resource.id]
	grant.expires_at_ns > now_ns
	access_rank[grant.access] >= action_rank
}

expired_grants contains grant if {
	some id in identities
	some grant in snapshot.grants[id][input.resource.id]
	grant.expires_at_ns <= now_ns
}

# --- why it may be allowed --------------------------------------------------------------

allow_reasons contains "owner" if {
	action_rank
	is_owner
}

allow_reasons contains "role_admin" if {
	action_rank
	is_admin
}

allow_reasons contains "viewer" if {
	action_rank == access_rank.read
	some id in identities
	dataset.viewers[id]
}

allow_reasons contains "grant" if count(active_grants) > 0

# A role binding admits the action, within the principal's clearance (below).
allow_reasons contains "role" if role_permits

# --- why it must be denied (these win over any allow) -------------------------------------

# This policy decides for datasets only: any other resource type is denied here (a type an
# admin maps to a policy package is decided by that package and never reaches this one).
deny_reasons contains unknown_resource if not dataset

unknown_resource := "unknown_dataset" if input.resource.type == "dataset"

default unknown_resource := "unknown_resource_type"

deny_reasons contains "unknown_principal" if not principal

deny_reasons contains "unknown_action" if not action_rank

deny_reasons contains "invalid_time" if not now_ns

# Above the principal's clearance, only ownership, the admin role or an approved grant admit.
deny_reasons contains "clearance_insufficient" if {
	not is_owner
	not is_admin
	count(active_grants) == 0
	level(dataset.sensitivity) > clearance_rank
}

deny_reasons contains "purpose_not_allowed" if {
	count(dataset.purposes) > 0
	not purpose_allowed
}

purpose_allowed if input.context.purpose in dataset.purposes

# A dataset's row filter shows each principal the rows whose filter column holds one of the
# values its rules name (rules for the principal or its groups) or its active grants list; its
# owners and the admin role see every row. One it would show no rows is denied rather than
# answered with an empty filter, and so is one whose filter column is gone (a schema sync
# removed it): the filter cannot be applied. Said only of a request something allows, so others
# keep their own reasons.
row_filtered if {
	dataset.row_filter
	not is_owner
	not is_admin
}

row_values contains value if {
	row_filtered
	some id in identities
	some value in dataset.row_filter.values[id]
}

# An active grant may show more rows (a just-in-time request for, say, one customer's rows).
row_values contains value if {
	row_filtered
	some grant in active_grants
	some value in grant.rows
}

deny_reasons contains reason if {
	row_filtered
	count(allow_reasons) > 0
	some reason in row_filter_denials
}

row_filter_denials contains "row_filter_no_rows" if count(row_values) == 0

row_filter_denials contains "row_filter_column_missing" if not dataset.columns[dataset.row_filter.column]

# --- the decision -----------------------------------------------------------------------

allow if {
	count(allow_reasons) > 0
	count(deny_reasons) == 0
}

reasons := sort(allow_reasons_list) if allow

reasons := sort(deny_list) if not allow

allow_reasons_list := [r | some r in allow_reasons]

deny_list := [r | some r in deny_reasons] if count(deny_reasons) > 0

deny_list := ["grant_expired"] if {
	count(deny_reasons) == 0
	count(allow_reasons) == 0
	count(expired_grants) > 0
}

deny_list := ["no_access"] if {
	count(deny_reasons) == 0
	count(allow_reasons) == 0
	count(expired_grants) == 0
}

# Columns above the principal's clearance are masked unless it owns the dataset, is admin, or
# holds a grant naming the column (a grant without columns admits the dataset, masks and all);
# contact-like data is hashed (joinable), everything else redacted.
hashed_categories := {"contact", "online-id"}

masking if {
	allow
	not is_owner
	not is_admin
}

# The columns a request names (resource.properties.columns: those its query reads). Masks are
# then answered for those alone; without them (or with anything but a list), for every column.
requested_columns := {name | some name in input.resource.properties.columns; is_string(name)} if {
	is_array(input.resource.properties.columns)
}

# (A scope the one masks rule walks, not a second masks rule for named columns: of the shapes
# tried, the cheapest where a request names none, +0.7 us a decision at p50 in
# `python bench/decisions.py --against`.)
mask_scope := dataset.columns if not requested_columns

mask_scope := object.filter(dataset.columns, requested_columns) if requested_columns

masks[name] := method if {
	masking
	some name, column in mask_scope
	snapshot.levels[column.sensitivity] > clearance_rank
	not granted_columns[name]
	method := mask_method[hashed(column)]
}

# A named column the catalog does not hold (added at the source since its last schema sync, or
# misspelt) has no known sensitivity: it is redacted, unless a grant names it.
masks[name] := "redact" if {
	masking
	some name in requested_columns
	not dataset.columns[name]
	not granted_columns[name]
}

# The columns the principal's active grants name, gathered once rather than per column.
granted_columns contains name if {
	some grant in active_grants
	some name in grant.columns
}

# A lookup, not a function with `else` (regorus's compiled mode gets `else` in functions wrong)
# nor two rules that each test the categories. With the two lines above (levels looked up
# directly, granted columns gathered once) this took a decision's p99 from 111-179 to 98-154 us
# in three runs of `python bench/decisions.py --against`, the mean by 3-5 us.
mask_method := {true: "hash", false: "redact"}

hashed(column) := count({c | some c in column.categories; c in hashed_categories}) > 0

decision := {
	"allow": allow_value,
	"reasons": reasons,
	"obligations": object.union({"mask": masks}, row_obligation),
}

# The row filter joins the obligations only where the dataset has one. Of the shapes tried, this
# one (a default and a merge) cost least where there is none: +1.9 us a decision at p50, where
# two definitions of `obligations` or of `decision` cost 2.5-2.7 us (bench/decisions.py --against).
default row_obligation := {}

row_obligation := {"row_filter": {"column": dataset.row_filter.column, "in": sort(row_values)}} if {
	row_filtered
	allow
}

allow_value := true if allow

allow_value := false if not allow
