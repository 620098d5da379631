from django.core.management.base import BaseCommand, CommandError

from apps.core.errors import ApplicationError
from apps.decisions.credentials import credential_create
from apps.decisions.models import ServiceCredential


class Command(BaseCommand):
    help = "Create a service credential for the decision API and print its token (once)."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("name")
        parser.add_argument("--scope", action="append", default=None, help="repeatable")
        parser.add_argument("--days", type=int, default=90)

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        scopes = options["scope"] or [ServiceCredential.Scope.EVALUATE]
        try:
            credential, token = credential_create(
                actor="manage.py credential_create",
                name=options["name"],
                scopes=scopes,
                days=options["days"],
            )
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        self.stderr.write(
            f"credential {credential.name!r} ({', '.join(credential.scopes)}), expires"
            f" {credential.expires_at:%Y-%m-%d}. The token is shown this once:"
        )
        self.stdout.write(token)
