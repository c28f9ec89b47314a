"""``manage.py seed_demo``: fill an empty database with the demo district."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from demo.catalog import DEMO_PASSWORD
from demo.generator import DemoAlreadySeededError, demo_is_seeded, generate
from demo.scales import SCALES


class Command(BaseCommand):
    """``seed_demo [--scale tiny|tiny_history|small|district|metro] [--seed N] [--if-empty]``."""

    help = (
        "Fill an empty database with the deterministic demo district (Maple Valley USD): sites, people, "
        "guardians, devices, a school year of custody history and five staff logins (password 'demo')."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--scale", choices=list(SCALES), default="small", help="Size (default: small).")
        parser.add_argument("--seed", type=int, default=2026, help="Random seed; same seed, same data (default 2026).")
        parser.add_argument(
            "--if-empty", action="store_true", help="Do nothing (and succeed) when the database already has data."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["if_empty"] and demo_is_seeded():
            self.stdout.write("Database already seeded; nothing to do.")
            return
        try:
            summary = generate(scale=options["scale"], seed=options["seed"], progress=self._progress)
        except DemoAlreadySeededError as exc:
            raise CommandError(str(exc)) from exc
        for line in summary.lines():
            self.stdout.write(line)
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"Demo logins (password: {DEMO_PASSWORD})"))
        width = max(len(login.username) for login in summary.logins)
        role_width = max(len(login.role) for login in summary.logins)
        self.stdout.write(f"  {'username':<{width}}  {'role':<{role_width}}  where")
        for login in summary.logins:
            self.stdout.write(f"  {login.username:<{width}}  {login.role:<{role_width}}  {login.where}")

    def _progress(self, message: str) -> None:
        self.stdout.write(message)
        self.stdout.flush()
