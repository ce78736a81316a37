from django.conf import settings
from django.core.management.base import BaseCommand

from acme.lib import embedded


class Command(BaseCommand):
    help = "Stop the embedded PostgreSQL and Redis under var/ (they start on demand)."
    # Runs under the production settings too (make stop), where the URLs may be unset.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["stop"])

    def handle(self, *args, **options):
        # Close Django's own connection first, or PostgreSQL waits for it.
        from django.db import connections

        connections.close_all()
        stopped = embedded.stop(settings.VAR_DIR)
        self.stdout.write("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))
