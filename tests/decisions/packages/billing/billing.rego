# An example policy package: invoices, decided from a list of clerks in the package's data.
package steward.ext.billing

import rego.v1

default decision := {"allow": false, "reasons": ["not_a_clerk"], "obligations": {}}

decision := {"allow": true, "reasons": ["clerk"], "obligations": {"mask": {"iban": "redact"}}} if {
	input.action.name == "read"
	input.subject.id in data.steward.packages.billing.clerks
}
