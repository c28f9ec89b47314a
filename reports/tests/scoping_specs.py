"""Scoping specs for the report pages' downloads (see core/tests/test_url_matrix.py).

The dashboard and the Sites list keep their specs in core/tests/scoping_specs.py beside the
other pages of the main menu.
"""

from core.scoping_matrix import UrlSpec

SPECS = [
    # Downloads (reports/export_views.py): scoped like the lists they export.
    *[
        UrlSpec(f"exports:{name}_{fmt}")
        for name in ("devices", "people", "assignments", "events")
        for fmt in ("csv", "xlsx")
    ],
]
