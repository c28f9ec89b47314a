"""Import pages: history, new import, the run page (preview, progress, report), issues CSV,
and the org unit → site mappings."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from core.errors import DomainError
from core.paging import keyset_page, list_page
from core.scoping import ADMIN, CHANGE, VIEW, get_visible_or_404, scope_for
from core.views import HtmxHttpRequest, form_error, ledger_view
from core.writing import csv_stream
from imports.forms import ImportForm, OrgUnitMappingForm
from imports.models import ImportIssue, ImportRun, OrgUnitMapping
from imports.pipeline import ImportRefused, importer_class
from imports.selectors import (
    ISSUE_HEADERS,
    import_columns_unmatched,
    import_counts_table,
    import_issue_rows,
    import_options_shown,
    import_run_list,
    import_status_label,
    import_summary,
    org_unit_mapping_list,
)
from imports.services import (
    import_run_cancel,
    import_run_commit,
    import_run_create,
    import_run_start,
    org_unit_mapping_delete,
    org_unit_mapping_save,
)


def _run_or_404(request: HttpRequest, pk: int, action: str = VIEW) -> ImportRun:
    qs = ImportRun.objects.select_related("scope_site", "actor")
    return get_visible_or_404(qs, request.user, action, pk=pk)


#: Sort keys of the import history: key → the columns of its order (ids follow upload order).
RUN_SORTS = {"started": ("id",), "file": ("file_name",), "kind": ("kind",), "status": ("status",)}


@ledger_view(VIEW)
def run_list(request: HttpRequest) -> HttpResponse:
    """Import history: who, when, file, options, counts; newest first by default, with the
    total, sortable columns (``sort``: started, file, kind, status) and a page size."""
    listing = list_page(import_run_list(user=request.user), request.GET, sorts=RUN_SORTS, default="-started")
    rows = [
        (run, import_summary(run=run), import_options_shown(run=run), import_status_label(run=run))
        for run in listing.page.items
    ]
    return render(request, "imports/run_list.html", {"listing": listing, "page": listing.page, "rows": rows})


@ledger_view(CHANGE)
def run_new(request: HttpRequest) -> HttpResponse:
    """Upload a file and start its preview in the background."""
    form = ImportForm(request.POST or None, request.FILES or None, user=request.user)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            run = import_run_create(
                actor=request.user,
                kind=form.cleaned_data["kind"],
                mode=form.cleaned_data["mode"],
                options=form.options(),
                scope_site=form.cleaned_data["site"],
                upload=form.cleaned_data["file"],
            )
        except ImportRefused as error:
            form_error(form, error)
            status = 403
        except DomainError as error:
            form_error(form, error)
        else:
            import_run_start(run=run, phase="preview")
            # No "checking…" message: it outlived the check (shown above the finished preview);
            # the run page's progress card says what the job is doing while it does it.
            return redirect("imports:run_detail", pk=run.pk)
    return render(request, "imports/run_new.html", {"form": form}, status=status)


@ledger_view(VIEW)
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One run: progress while working, then the preview (counts, issues, commit) or the report."""
    return _run_page(request, _run_or_404(request, pk))


def _run_page(request: HttpRequest, run: ImportRun, *, commit_error: str = "") -> HttpResponse:
    """The run page; ``commit_error``: why the commit just asked for was refused (shown on
    this page, next to the commit form, rather than flashed to whatever page comes next)."""
    issues = keyset_page(
        ImportIssue.objects.filter(run=run),
        sort_field="id",
        after=request.GET.get("after", "")[:200],
        before=request.GET.get("before", "")[:200],
        size=50,
    )
    keys, count_rows = import_counts_table(run=run)
    scope = scope_for(request.user)
    can_commit = scope.allows_site(run.scope_site_id, CHANGE) if run.scope_site_id else scope.allows_everywhere(CHANGE)
    try:
        importer_class(run.kind).check_allowed(scope=scope, scope_site_id=run.scope_site_id)
    except DomainError:
        can_commit = False
    changes = sum(run.total(k) for k in ("created", "updated", "deactivated", "reactivated", "removed"))
    settled = run.status in (ImportRun.Status.PREVIEWED, ImportRun.Status.DONE)
    has_errors = bool(run.error_count or run.total("rejected"))
    every_row_rejected = settled and has_errors and not run.valid_rows()
    return render(
        request,
        "imports/run_detail.html",
        {
            "run": run,
            "issues": issues,
            "count_keys": keys,
            "count_rows": count_rows,
            "options": import_options_shown(run=run),
            "can_commit": can_commit and run.status == ImportRun.Status.PREVIEWED and not run.dry_run,
            "status_label": import_status_label(run=run),
            "commit_error": commit_error,
            "every_row_rejected": every_row_rejected,
            "nothing_to_change": settled and not changes and not has_errors,
            "nothing_to_change_in_valid_rows": settled and not changes and has_errors and not every_row_rejected,
            "columns_unmatched": import_columns_unmatched(run=run),
            "guard": run.deactivation_guard() if run.status == ImportRun.Status.PREVIEWED else {},
            "guardians_removed": int((run.preview or {}).get("guardians", {}).get("removed", 0)),
        },
    )


@ledger_view(VIEW)
def run_progress(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The progress bar (polled by htmx every second). Once the job is no longer running,
    htmx reloads the whole page to show the preview or the report."""
    run = _run_or_404(request, pk)
    response = render(request, "imports/_progress.html", {"run": run, "status_label": import_status_label(run=run)})
    if not run.is_running and request.htmx:
        response["HX-Refresh"] = "true"
    return response


@require_POST
@ledger_view(CHANGE)
def run_commit(request: HttpRequest, pk: int) -> HttpResponse:
    """Commit a previewed run (optionally switching to apply the valid rows only)."""
    run = _run_or_404(request, pk, CHANGE)
    mode = request.POST.get("mode") or None
    confirm = request.POST.get("confirm_deactivation") == "yes"
    try:
        run = import_run_commit(run=run, actor=request.user, mode=mode, confirm_deactivation=confirm)
    except DomainError as error:
        # Shown on the run page this request returns (a flashed message would wait for the next page).
        run.refresh_from_db()
        return _run_page(request, run, commit_error=str(error))
    import_run_start(run=run, phase="commit")
    return redirect("imports:run_detail", pk=pk)


@require_POST
@ledger_view(CHANGE)
def run_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    """Drop a previewed run."""
    run = _run_or_404(request, pk, CHANGE)
    try:
        import_run_cancel(run=run, actor=request.user)
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.info(request, f"Import #{run.pk} cancelled; nothing was changed.")
    return redirect("imports:run_detail", pk=pk)


@ledger_view(VIEW)
def run_issues_csv(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    """Every issue of a run as CSV (streamed)."""
    run = _run_or_404(request, pk)
    response = StreamingHttpResponse(
        csv_stream(ISSUE_HEADERS, import_issue_rows(run=run)), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="import-{run.pk}-issues.csv"'
    return response


@ledger_view(ADMIN)
def org_units(request: HttpRequest) -> HttpResponse:
    """District admins map Google org unit paths to sites (the longest prefix wins)."""
    form = OrgUnitMappingForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            mapping = org_unit_mapping_save(
                actor=request.user, path_prefix=form.cleaned_data["path_prefix"], site=form.cleaned_data["site"]
            )
        except DomainError as error:
            form_error(form, error)
        else:
            messages.success(request, f"{mapping.path_prefix} → {mapping.site.name} saved.")
            return redirect("imports:org_units")
    return render(
        request, "imports/org_units.html", {"form": form, "mappings": org_unit_mapping_list(user=request.user)}
    )


@require_POST
@ledger_view(ADMIN)
def org_unit_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Forget one mapping."""
    mapping = get_visible_or_404(OrgUnitMapping.objects.select_related("site"), request.user, ADMIN, pk=pk)
    org_unit_mapping_delete(actor=request.user, mapping=mapping)
    messages.success(request, f"{mapping.path_prefix} removed.")
    return redirect("imports:org_units")
