"""Run the whole control plane locally with embedded defaults: no outside services needed.

migrate -> demo data -> Celery worker + beat (kombu filesystem broker) -> web server.
"""

import os
import signal
import subprocess
import sys
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Migrate, load demo data, start an embedded Celery worker with beat, and serve the UI."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--port", default=os.environ.get("PORT", "8000"))
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument(
            "--no-worker", action="store_true", help="Do not start the Celery worker."
        )
        parser.add_argument("--no-demo", action="store_true", help="Do not load demo data.")

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("Database migrated.")
        if not options["no_demo"]:
            call_command("seed_demo")
        worker = None
        if not options["no_worker"]:
            worker = self._start_worker()
        try:
            self.stdout.write(
                self.style.SUCCESS(f"Steward is at http://{options['host']}:{options['port']}/")
            )
            call_command(
                "runserver",
                f"{options['host']}:{options['port']}",
                use_reloader=False,
                use_threading=True,
            )
        finally:
            if worker is not None and worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
                try:
                    worker.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    worker.kill()

    def _start_worker(self) -> subprocess.Popen[bytes]:
        """The same Celery tasks, run by a real worker (with beat) on an embedded broker."""
        var = settings.BASE_DIR / "var"
        var.mkdir(exist_ok=True)
        cmd = [
            sys.executable, "-m", "celery", "-A", "controlplane", "worker", "--beat",
            "--pool=solo", "--loglevel=INFO",
            "--schedule", str(var / "celerybeat-schedule"),
        ]  # fmt: skip
        log = open(var / "celery.log", "ab")  # noqa: SIM115 - handed to the child for its lifetime
        self.stdout.write(f"Celery worker + beat started (log: {var / 'celery.log'}).")
        return subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=os.environ.copy())  # noqa: S603 - fixed argv
