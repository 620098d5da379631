import json

from django.core.management.base import BaseCommand, CommandError

from apps.audit.verify import verify_log


class Command(BaseCommand):
    help = "Walk the audit log and name the first broken link (exit status 1 if there is one)."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--json", action="store_true", help="print the report as JSON")

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        report = verify_log()
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict(), indent=2))
        else:
            self.stdout.write(
                f"checked {report.entries} entries, {report.batches} batches,"
                f" {report.checkpoints} checkpoints in {report.seconds:.2f}s"
                f" ({report.unsealed} not yet sealed)"
            )
            for note in report.notes:
                self.stdout.write(f"note: {note}")
        if report.problem is not None:
            raise CommandError(f"BROKEN ({report.problem.kind}): {report.problem.message}")
        if not options["json"]:
            self.stdout.write(self.style.SUCCESS("OK: the audit log is intact"))
