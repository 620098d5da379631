from django.core.management.base import BaseCommand

from apps.audit import signing


class Command(BaseCommand):
    help = "Print the public key (PEM) that verifies audit checkpoints, for outside verifiers."

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        self.stdout.write(f"# key id {signing.current_key_id()}")
        self.stdout.write(signing.public_key_pem().rstrip())
