import json

from django.core.management.base import BaseCommand, CommandError

from apps.audit.proofs import inclusion_proof
from apps.core.errors import ApplicationError


class Command(BaseCommand):
    help = (
        "Print the inclusion proof of one audit entry as JSON; check it anywhere with"
        " `python -m apps.audit.offline PROOF.json PUBLIC_KEY.pem`."
    )

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("entry_id", type=int)

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        try:
            proof = inclusion_proof(entry_id=options["entry_id"])
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(json.dumps(proof, indent=2))
