from django.conf import settings
from django.core.management.base import BaseCommand

from apps.audit.retention import audit_archive_and_prune


class Command(BaseCommand):
    help = "Export audit entries past retention to a verifiable segment file, then prune them."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--older-than-days", type=int, default=settings.AUDIT_RETENTION_DAYS)
        parser.add_argument("--dir", default=settings.AUDIT_ARCHIVE_DIR)

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        archive = audit_archive_and_prune(
            older_than_days=options["older_than_days"], directory=options["dir"]
        )
        if archive is None:
            self.stdout.write("nothing is past retention (or not yet under a checkpoint)")
            return
        self.stdout.write(
            f"archived seq {archive.first_seq}-{archive.last_seq} ({archive.entries} entries)"
            f" to {archive.path} (sha256 {archive.sha256}) and pruned them"
        )
