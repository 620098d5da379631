package steward.ext.billing_test

import rego.v1

import data.steward.ext.billing

request(who) := {
	"subject": {"type": "user", "id": who},
	"action": {"name": "read"},
	"resource": {"type": "invoice", "id": "inv-1"},
}

test_a_clerk_reads_with_the_iban_masked if {
	d := billing.decision with input as request("carla") with data.steward.packages.billing.clerks as ["carla"]
	d.allow
	d.obligations.mask.iban == "redact"
}

test_anyone_else_is_denied if {
	d := billing.decision with input as request("stan") with data.steward.packages.billing.clerks as ["carla"]
	not d.allow
	d.reasons == ["not_a_clerk"]
}
