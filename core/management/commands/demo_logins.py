"""Print the demo logins (all with password ``demo``)."""

from django.core.management.base import BaseCommand, CommandParser

DEMO_LOGINS = [
    ("district-admin", "District admin: everything, settings, users"),
    ("district-tech", "District technician: all sites' devices, people and custody"),
    ("site-tech", "Site technician at the first demo site"),
    ("principal", "Site administrator (principal) at the first demo site: read-only"),
    ("auditor", "Auditor, district-wide: read-only"),
]


class Command(BaseCommand):
    help = "Print the demo district's logins."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--url", default="http://127.0.0.1:8000", help="where the server listens")

    def handle(self, *args: object, **options: object) -> None:
        self.stdout.write(f"\nDeviceLedger demo: open {options['url']} and log in as (password: demo)")
        for username, what in DEMO_LOGINS:
            self.stdout.write(f"  {username:<16} {what}")
        self.stdout.write("")
