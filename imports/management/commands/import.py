"""``python manage.py import KIND PATH [--dry-run] [--mode all|valid] [--actor USERNAME] [--site CODE]
[--option NAME=VALUE …]``.

Runs an import in this process: preview (printed), then commit (unless ``--dry-run``), then
the report. A progress line shows on the terminal. Exit status 1 when rows were rejected
(or would be, with ``--dry-run``) or the import could not be applied; 2 when the command
itself is wrong (unknown user, site or option); 0 otherwise.

``--site CODE`` limits the run to one site, as the upload form's site does: rows for other
sites are rejected. Site staff must give one of their sites; the code is looked up through
the scoping gate for ``--actor``. ``--option`` names must be options the importer reads.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.errors import DomainError
from core.scoping import CHANGE, scope_for
from core.types import Actor
from imports.models import ImportRun
from imports.pipeline import IMPORTER_CLASSES, ImportRefused, check_may_import, importer_class, run_phase
from imports.selectors import import_counts_table
from imports.services import import_run_commit, import_run_create, import_run_refuse
from sites.models import Site

MODES = {"all": ImportRun.Mode.ALL_OR_NOTHING, "valid": ImportRun.Mode.VALID_ROWS}
SHOWN_ISSUES = 50


def _available() -> str:
    return ", ".join(kind for kind, path in IMPORTER_CLASSES.items() if path)


class Command(BaseCommand):
    help = (
        f"Import a file or folder: preview, then commit. Kinds available: {_available()}; "
        "other kinds are not available yet. Exits 1 when rows were rejected."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", metavar="KIND", help=f"what the file is ({_available()})")
        parser.add_argument("path", metavar="PATH", help="the file, zip or folder to import")
        parser.add_argument("--dry-run", action="store_true", help="preview only; change nothing")
        parser.add_argument(
            "--mode",
            choices=sorted(MODES),
            default="all",
            help="all: apply nothing unless every row is valid (default); valid: apply the valid rows",
        )
        parser.add_argument("--actor", metavar="USERNAME", help="the staff user the import is done as (checked)")
        parser.add_argument(
            "--site",
            metavar="CODE",
            help="limit the import to this site (its code); rows for other sites are rejected. "
            "Site staff import for one of their sites",
        )
        parser.add_argument(
            "--option",
            action="append",
            default=[],
            metavar="NAME=VALUE",
            help="an importer option, e.g. deactivate_missing=false (unknown names are refused, with the list)",
        )
        parser.add_argument("--no-progress", action="store_true", help="no progress line")

    def handle(self, *args: Any, **opts: Any) -> None:
        kind = opts["kind"].strip().lower()
        actor = self._actor(opts["actor"])
        self.progress_shown = not opts["no_progress"]
        self._last_phase = ""
        site: Site | None = None
        try:
            importer_class(kind)  # an unknown or unavailable kind first
            site = self._site(opts["site"], actor)
            run = import_run_create(
                actor=actor,
                kind=kind,
                path=Path(opts["path"]),
                mode=MODES[opts["mode"]],
                options=self._options(opts["option"]),
                scope_site=site,
                dry_run=opts["dry_run"],
            )
        except ImportRefused as exc:
            message = str(exc)
            if exc.field == "site" and site is None:
                message += f" Give --site CODE ({self._your_sites(actor)})."
            raise CommandError(message, returncode=2) from exc
        except DomainError as exc:
            raise CommandError(str(exc), returncode=2) from exc
        self.stdout.write(f"Import #{run.pk}: {run.get_kind_display()} from {run.stored_path}")
        run = run_phase(run_id=run.pk, phase="preview", echo=self._echo)
        self._end_progress()
        self.stdout.write(self.style.MIGRATE_HEADING("Preview"))
        self._print_run(run)
        if run.status != ImportRun.Status.PREVIEWED:
            raise CommandError(run.error or f"The import is {run.get_status_display().lower()}.", returncode=1)
        if opts["dry_run"]:
            if run.error_count:
                raise CommandError(f"{run.error_count} row error(s) (dry run: nothing changed).", returncode=1)
            self.stdout.write(self.style.SUCCESS("Dry run: nothing changed."))
            return
        try:
            run = import_run_commit(run=run, actor=actor)
        except DomainError as exc:
            import_run_refuse(run=run, reason=str(exc))
            raise CommandError(str(exc), returncode=1) from exc
        run = run_phase(run_id=run.pk, phase="commit", echo=self._echo)
        self._end_progress()
        self.stdout.write(self.style.MIGRATE_HEADING("Report"))
        if not run.counts_applied and run.status != ImportRun.Status.DONE and run.shown_counts():
            self.stdout.write("The commit did not complete: these are the preview's planned counts.")
        self._print_run(run)
        if run.status != ImportRun.Status.DONE:
            raise CommandError(run.error or f"The import is {run.get_status_display().lower()}.", returncode=1)
        rejected = run.total("rejected", "counts")
        if rejected:
            raise CommandError(f"{rejected} row(s) rejected; the valid rows were applied.", returncode=1)
        self.stdout.write(self.style.SUCCESS("Done."))

    # -- helpers -------------------------------------------------------------------------

    def _actor(self, username: str | None) -> Actor | None:
        if not username:
            return None
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"No active user named '{username}'.", returncode=2)
        return user

    def _site(self, code: str | None, actor: Actor | None) -> Site | None:
        """The site ``--site CODE`` names, among those ``actor`` may import for (any site for
        the system). A read-only role is told it may not import, whatever the site."""
        if code is None:
            return None
        code = code.strip()
        if not code:
            raise CommandError("--site needs a site code.", returncode=2)
        if actor is not None:
            check_may_import(scope_for(actor))
        sites = Site.objects.all() if actor is None else Site.objects.visible_to(actor, CHANGE)
        site = sites.filter(code=code).first()
        if site is None:
            matches = list(sites.filter(code__iexact=code)[:2])
            site = matches[0] if len(matches) == 1 else None
        if site is None:  # missing and out of scope say the same
            mine = "" if actor is None else f"; {self._your_sites(actor)}"
            raise CommandError(f"No site with the code '{code[:40]}' that you may import for{mine}.", returncode=2)
        if not site.active:
            raise CommandError(f"{site.name} ({site.code}) is inactive: nothing is imported for it.", returncode=2)
        return site

    def _your_sites(self, actor: Actor | None) -> str:
        codes = list(
            Site.objects.visible_to(actor, CHANGE)
            .filter(active=True)
            .order_by("code")
            .values_list("code", flat=True)[:21]
        )
        if not codes:
            return "you may import for no site"
        shown = ", ".join(codes[:20]) + (", …" if len(codes) > 20 else "")
        return f"your sites: {shown}"

    def _options(self, pairs: list[str]) -> dict[str, Any]:
        """``NAME=VALUE`` pairs as given; the importer checks the names and turns yes/no
        values into booleans (:meth:`imports.pipeline.Importer.clean_options`)."""
        options: dict[str, Any] = {}
        for pair in pairs:
            name, sep, value = pair.partition("=")
            if not sep or not name.strip():
                raise CommandError(f"--option needs NAME=VALUE, got '{pair}'.", returncode=2)
            options[name.strip()] = value.strip()
        return options

    def _echo(self, phase: str, done: int, total: int) -> None:
        if not self.progress_shown:
            return
        err = sys.stderr
        percent = f" ({100 * done // total}%)" if total else ""
        line = f"{phase}: {done:,}/{total:,} rows{percent}" if total else f"{phase}: {done:,} rows"
        if err.isatty():
            err.write("\r\033[K" + line[:150])
            err.flush()
        elif phase != self._last_phase:
            err.write(line + "\n")
        self._last_phase = phase

    def _end_progress(self) -> None:
        if self.progress_shown and sys.stderr.isatty():
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()

    def _print_run(self, run: ImportRun) -> None:
        keys, rows = import_counts_table(run=run)
        if rows:
            width = max(len(label) for label, _ in rows)
            self.stdout.write(" " * width + "  " + "  ".join(f"{k:>11}" for k in keys))
            for label, values in rows:
                self.stdout.write(f"{label:<{width}}  " + "  ".join(f"{v:>11,}" for v in values))
        for note in run.notes:
            self.stdout.write(f"note: {note}")
        issues = list(run.issues.order_by("id")[:SHOWN_ISSUES])
        for issue in issues:
            where = f"{issue.file} line {issue.line}" if issue.line else issue.file or "upload"
            column = f", {issue.column}" if issue.column else ""
            value = f" '{issue.value}'" if issue.value else ""
            self.stdout.write(f"{issue.severity}: {where}{column}{value}: {issue.reason}")
        total = run.error_count + run.warning_count
        if total > len(issues):
            self.stdout.write(
                f"… {total - len(issues):,} more issue(s): see /imports/{run.pk}/ or /imports/{run.pk}/issues.csv"
            )
        self.stdout.write(f"{run.error_count:,} error(s), {run.warning_count:,} warning(s).")
