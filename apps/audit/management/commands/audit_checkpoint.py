from django.core.management.base import BaseCommand

from apps.audit.services import audit_checkpoint_create


class Command(BaseCommand):
    help = "Seal pending entries and sign the chain head now (an on-demand checkpoint)."

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        checkpoint = audit_checkpoint_create(actor="manage.py audit_checkpoint")
        if checkpoint is None:
            self.stdout.write("the audit log is empty: nothing to sign")
            return
        self.stdout.write(
            f"checkpoint {checkpoint.pk}: batch {checkpoint.batch}, last seq {checkpoint.last_seq},"
            f" head {bytes(checkpoint.head_hash).hex()}, key {checkpoint.key_id}"
        )
