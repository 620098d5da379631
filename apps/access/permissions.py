"""Steward's permissions, by name, and the built-in roles that bundle them.

A role binding gives a role to a user, a group or a service credential, across the whole
control plane or scoped to one source or one dataset. Nothing is allowed by default.

Data-plane permissions (``data.*``) are what the decision policy reads from the governance
snapshot; the others gate control-plane actions.
"""

# Data plane: what a binding lets its principal do to the data in its scope (still subject to
# the principal's clearance, which only ownership, the admin role or a grant overrides).
DATA_READ = "data.read"
DATA_WRITE = "data.write"
DATA_EXPORT = "data.export"

# Control plane.
CATALOG_EDIT = "catalog.edit"  # edit datasets in scope (like their steward)
ACCESS_APPROVE = "access.approve"  # approve access requests in scope (fallback approvers)
ACCESS_REVOKE = "access.revoke"  # revoke grants in scope
ACCESS_BREAK_GLASS = "access.break_glass"  # grant oneself emergency access
ROLES_MANAGE = "roles.manage"  # create roles and bindings
REVIEWS_MANAGE = "reviews.manage"  # start access review campaigns, schedule them
AUDIT_READ = "audit.read"
INCIDENTS_MANAGE = "incidents.manage"

ALL = {
    DATA_READ: "Read data in scope",
    DATA_WRITE: "Write data in scope",
    DATA_EXPORT: "Export data in scope",
    CATALOG_EDIT: "Edit catalog entries in scope",
    ACCESS_APPROVE: "Approve access requests in scope",
    ACCESS_REVOKE: "Revoke access grants in scope",
    ACCESS_BREAK_GLASS: "Use break-glass emergency access",
    ROLES_MANAGE: "Manage roles and role bindings",
    REVIEWS_MANAGE: "Run access review campaigns",
    AUDIT_READ: "Read the audit log",
    INCIDENTS_MANAGE: "Manage breach incidents",
}

# Built-in roles (created by a migration; admins may add their own).
BUILTIN_ROLES: dict[str, tuple[str, list[str]]] = {
    "admin": ("Administrator", sorted(ALL)),
    "data_owner": (
        "Data owner",
        [DATA_READ, DATA_WRITE, DATA_EXPORT, CATALOG_EDIT, ACCESS_APPROVE, ACCESS_REVOKE],
    ),
    "steward": ("Data steward", [DATA_READ, CATALOG_EDIT, ACCESS_APPROVE, ACCESS_REVOKE]),
    "analyst": ("Analyst", [DATA_READ]),
    "auditor": ("Auditor", [AUDIT_READ]),
    "legal": ("Legal", [AUDIT_READ, INCIDENTS_MANAGE]),
    "break_glass": ("Break-glass responder", [ACCESS_BREAK_GLASS]),
}

# How a data-plane action maps to the permission a binding must carry.
DATA_PERMISSION_FOR_ACTION = {"read": DATA_READ, "write": DATA_WRITE, "export": DATA_EXPORT}
