from django.conf import settings
from django.db import models
from django.db.models import functions


class ServiceCredential(models.Model):
    """A data-plane service's credential for the decision API.

    The secret is shown once, at creation; only its SHA-256 is stored (it is 32 random bytes, so
    a slow hash adds nothing). ``Authorization: Bearer stw_<prefix>_<secret>``: the prefix finds
    the row, the hash is compared in constant time.
    """

    class Scope(models.TextChoices):
        EVALUATE = "decisions:evaluate"
        BUNDLES = "bundles:read"  # OPA agents pulling policy bundles
        LOG = "decisions:log"  # OPA agents uploading their decision logs

    name = models.CharField(max_length=100, unique=True)
    prefix = models.CharField(max_length=16, unique=True)
    secret_sha256 = models.CharField(max_length=64)
    scopes = models.JSONField(default=list)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    # Rotation (credentials.credential_rotate): the secret replaced last is accepted until
    # previous_expires_at, so the services holding it can switch without downtime.
    rotated_at = models.DateTimeField(null=True, blank=True)
    previous_secret_sha256 = models.CharField(max_length=64, blank=True, default="")
    previous_expires_at = models.DateTimeField(null=True, blank=True)
    # When the mail that it expires soon went out (credentials_warn_expiring); cleared when a
    # rotation gives it a new expiry.
    expiry_warned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    # Service credentials are actors in the audit log: ("service", name).
    def audit_identity(self) -> tuple[str, str]:
        return "service", self.name

    @property
    def is_authenticated(self) -> bool:  # DRF's IsAuthenticated looks at request.user
        return True


class PolicyPackage(models.Model):
    """An admin-loaded Rego package with its own static data, deciding for the resource types
    mapped to it (``data.steward.ext.<name>.decision``; its data at
    ``data.steward.packages.<name>``). Loaded only after it compiles and its tests pass."""

    name = models.CharField(max_length=63, unique=True)
    files = models.JSONField(default=dict)  # relative path -> Rego text (tests included)
    data = models.JSONField(default=dict)
    resource_types = models.JSONField(default=list)
    revision = models.CharField(max_length=12)
    tests_passed = models.JSONField(default=list)
    loaded_at = models.DateTimeField()
    loaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class SnapshotChange(models.Model):
    """One write to data the governance snapshot reads, recorded by a database trigger
    (``apps.decisions.changes``) with the writing transaction's id. Pruned after a while."""

    class Kind(models.TextChoices):
        ANY = "any"  # rebuild everything
        GRANTS_OF = "grants_of"  # only this user's grants (``key``) changed
        DATASET = "dataset"  # only this dataset's entry (``key``) changed
        PRINCIPALS = "principals"  # only the principals and bindings sections changed
        # This person (``key``) was deactivated, reactivated or renamed: the principals and
        # bindings, their grants and the entries of the datasets that name them.
        PERSON = "person"
        # This dataset (``key``) was soft-removed: its entry and its FQN in grants go, the
        # bindings are read again.
        DATASET_REMOVED = "dataset_removed"
        # This group (``key``) was renamed: the principals and bindings and the entries of the
        # datasets naming it.
        GROUP = "group"

    txid = models.BigIntegerField()
    kind = models.CharField(max_length=16, choices=Kind.choices, db_default=Kind.ANY)
    key = models.BigIntegerField(null=True)
    created_at = models.DateTimeField(db_default=functions.Now(), db_index=True)

    def __str__(self) -> str:
        return f"{self.kind} {self.key or ''} by transaction {self.txid}".replace("  ", " ")


class SnapshotCounter(models.Model):
    """SQLite only (single writer): triggers bump ``version`` on every such write."""

    version = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"snapshot counter {self.version}"


class RemoteDecision(models.Model):
    """The id of a decision an OPA agent uploaded and the audit log recorded, so a batch the
    agent sends again (its upload timed out after we committed) is not recorded twice."""

    decision_id = models.CharField(max_length=128, unique=True)
    recorded_at = models.DateTimeField(db_default=functions.Now(), db_index=True)

    def __str__(self) -> str:
        return self.decision_id
