from django.core.management.base import BaseCommand

from apps.audit.services import audit_seal_pending


class Command(BaseCommand):
    help = "Seal every committed, unsealed audit entry into Merkle batches now."

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        batches = audit_seal_pending()
        sealed = sum(b.size for b in batches)
        self.stdout.write(f"sealed {sealed} entries into {len(batches)} batches")
