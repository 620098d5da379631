import os
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from apps.decisions.bundle_signing import generate_key, public_key_pem, signing_key


class Command(BaseCommand):
    help = (
        "Print the public key (and OPA configuration) that verifies Steward's signed bundles; "
        "--generate PATH writes a new EC P-256 private key for STEWARD_BUNDLE_SIGNING_KEY."
    )

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--generate", metavar="PATH", help="write a new private key here")

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        if options["generate"]:
            path = Path(options["generate"])
            if path.exists():
                raise CommandError(f"{path} exists; refusing to overwrite a key.")
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as out:
                out.write(generate_key())
            self.stderr.write(f"wrote {path}; set STEWARD_BUNDLE_SIGNING_KEY={path}")
            return
        signer = signing_key()
        if signer is None:
            raise CommandError("Bundles are not signed: STEWARD_BUNDLE_SIGNING_KEY is not set.")
        key, key_id = signer
        pem = public_key_pem(key)
        indented = "\n".join(f"        {line}" for line in pem.strip().splitlines())
        self.stdout.write(pem)
        self.stdout.write(
            "# OPA configuration:\n"
            f"keys:\n  {key_id}:\n    algorithm: ES256\n    key: |\n{indented}\n"
            "bundles:\n  steward:\n    signing:\n"
            f"      keyid: {key_id}\n"
        )
