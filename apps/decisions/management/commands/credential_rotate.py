from django.core.management.base import BaseCommand, CommandError

from apps.core.errors import ApplicationError
from apps.decisions.credentials import credential_rotate
from apps.decisions.models import ServiceCredential


class Command(BaseCommand):
    help = (
        "Give a service credential a new secret and print its token (once); the old token"
        " keeps working for --overlap-hours so the service can switch without downtime."
    )

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("name")
        parser.add_argument(
            "--days", type=int, default=None, help="validity (default: the credential's own)"
        )
        parser.add_argument("--overlap-hours", type=int, default=24)

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        credential = ServiceCredential.objects.filter(name=options["name"]).first()
        if credential is None:
            raise CommandError(f"No credential is named {options['name']!r}.")
        try:
            credential, token = credential_rotate(
                actor="manage.py credential_rotate",
                credential=credential,
                days=options["days"],
                overlap_hours=options["overlap_hours"],
            )
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        self.stderr.write(
            f"credential {credential.name!r} rotated: the new token expires"
            f" {credential.expires_at:%Y-%m-%d %H:%M}, the old one works until"
            f" {credential.previous_expires_at:%Y-%m-%d %H:%M} UTC. The new token is shown this once:"
        )
        self.stdout.write(token)
