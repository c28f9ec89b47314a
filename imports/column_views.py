"""The column-mapping step of a CSV/XLSX import: ``/imports/<id>/columns/``.

After an upload whose headers were not all recognised (or to check how they were read), the
user maps each of our fields to one of the file's headers — pre-filled from the mapping
remembered for the source, else the aliases — optionally remembers it for that source
(``imports.ColumnMapping``), and the preview runs again with it.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from core.errors import DomainError
from core.scoping import CHANGE, get_visible_or_404
from core.views import form_error, ledger_view
from imports.models import ImportRun
from imports.selectors import column_mapping_for
from imports.services import REMEMBER_RULE, import_run_remap, import_run_start, may_remember_column_mapping
from imports.tabular import (
    ENTITIES,
    FIELDS,
    file_headers,
    file_samples,
    guess_entity,
    initial_mapping,
    parse_mapping,
)

NOT_IN_FILE = ""


class ColumnMappingForm(forms.Form):
    """What the rows are, one choice of header per field of ours, and the source to remember it under."""

    entity = forms.ChoiceField(choices=[("devices", "Devices"), ("people", "People")], widget=forms.HiddenInput)
    source_name = forms.CharField(
        max_length=120,
        required=False,
        label="Where the file comes from",
    )
    remember = forms.BooleanField(required=False, label="Remember this mapping for the next file from this source")

    def __init__(
        self,
        *args: Any,
        headers: list[str],
        entity: str,
        can_remember: bool,
        samples: dict[str, list[str]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        samples = samples or {}
        choices = [(NOT_IN_FILE, "— not in this file —"), *[(h, _choice_label(h, samples.get(h))) for h in headers]]
        self.field_names: list[str] = []
        for spec in FIELDS[entity]:
            name = f"field_{spec.name}"
            self.fields[name] = forms.ChoiceField(choices=choices, required=False, label=spec.label)
            self.field_names.append(name)
        # The help follows what this user may do (imports.services.may_remember_column_mapping).
        if can_remember:
            self.fields["source_name"].help_text = (
                "e.g. 'Lincoln spreadsheet'. Tick the box below to remember this mapping under that name: "
                "the next file anyone uploads from that source is read with it."
            )
        else:
            del self.fields["remember"]
            self.fields[
                "source_name"
            ].help_text = f"Recorded on this import. Your mapping applies to this import only. {REMEMBER_RULE}"

    def mapping(self) -> dict[str, str]:
        """``{our field: header or ""}`` from the cleaned data."""
        return {name.removeprefix("field_"): self.cleaned_data.get(name) or "" for name in self.field_names}

    def mapped_fields(self) -> list[Any]:
        return [self[name] for name in self.field_names]


@ledger_view(CHANGE)
def run_columns(request: HttpRequest, pk: int) -> HttpResponse:
    """Map the columns of a CSV/XLSX import's file to our fields, then preview it again."""
    run = get_visible_or_404(ImportRun.objects.select_related("scope_site"), request.user, CHANGE, pk=pk)
    if run.kind != ImportRun.Kind.CSV:
        raise Http404("Only CSV/XLSX imports have a column mapping.")
    headers = file_headers(run)
    options = run.options or {}
    entity = request.POST.get("entity") or request.GET.get("entity") or options.get("entity") or ""
    if entity not in ENTITIES:
        entity = _guess(run) or "devices"
    source = str(options.get("source") or "")
    remembered = column_mapping_for(kind=entity, source_name=source) if source else {}
    try:
        current = parse_mapping(options.get("mapping")) if options.get("entity") == entity else {}
    except ValueError:  # a command line's malformed mapping: start from the aliases
        current = {}
    prefill = initial_mapping(headers=headers, entity=entity, remembered={**remembered, **current})
    initial = {"entity": entity, "source_name": source, **{f"field_{k}": v for k, v in prefill.items()}}
    can_remember = may_remember_column_mapping(request.user)
    samples = file_samples(run) if headers else {}
    form = ColumnMappingForm(
        request.POST or None,
        headers=headers,
        entity=entity,
        can_remember=can_remember,
        samples=samples,
        initial=initial,
    )
    editable = (
        run.status in (ImportRun.Status.PREVIEWED, ImportRun.Status.REJECTED) and not run.dry_run and not run.counts
    )
    if request.method == "POST" and form.is_valid():
        try:
            run = import_run_remap(
                run=run,
                actor=request.user,
                entity=form.cleaned_data["entity"],
                mapping=form.mapping(),
                source_name=form.cleaned_data.get("source_name") or "",
                remember=bool(form.cleaned_data.get("remember")),
            )
        except DomainError as error:
            if not editable:
                messages.error(request, str(error))
                return redirect("imports:run_detail", pk=run.pk)
            form_error(form, error)
        else:
            import_run_start(run=run, phase="preview")
            messages.info(request, f"Import #{run.pk}: checking {run.file_name} again with your column mapping…")
            return redirect("imports:run_detail", pk=run.pk)
    other = "people" if entity == "devices" else "devices"
    return render(
        request,
        "imports/run_columns.html",
        {
            "run": run,
            "form": form,
            "headers": headers,
            "columns": [(header, samples.get(header, [])) for header in headers],
            "entity": entity,
            "other": other,
            "editable": editable,
            "can_remember": can_remember,
        },
    )


def _choice_label(header: str, samples: list[str] | None) -> str:
    """A header as its choice reads: ``"Property No (e.g. P-1, P-2)"``; the header alone
    when the first rows hold nothing under it."""
    return f"{header} (e.g. {', '.join(samples)})" if samples else header


def _guess(run: ImportRun) -> str | None:
    from imports.reading import FileFormatError, open_table

    try:
        return guess_entity(
            open_table(run.source_path, filename=run.file_name), parse_mapping(run.options.get("mapping"))
        )
    except (FileFormatError, OSError, ValueError, AttributeError):
        return None
