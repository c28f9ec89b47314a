"""Scoping specs for inventory's own pages (the device pages are in core/tests/scoping_specs.py)."""

from core.scoping_matrix import OTHER_SEARCHES, ListScope, UrlSpec, own_devices
from core.testing import OTHER_TAG

SPECS = [
    # The labels PDF of the device list's rows (``from_list``), of a tag range, or an error page:
    # site B's tags never appear in the PDF's text (core/tests/test_list_scope.py reads PDFs).
    UrlSpec(
        "device_labels",
        query={"from_list": "1", "print": "1"},
        lists=ListScope(
            own=own_devices,
            queries=(
                *OTHER_SEARCHES,
                {"status": "assigned"},
                {"tag_from": "CB-000001", "tag_to": "CB-000009"},
                {"tag_from": OTHER_TAG, "tag_to": OTHER_TAG},
                {"tag_from": "ZZB-9000", "tag_to": "ZZB-9100", "sent": "1", "stock": "thermal-2.25x1.25"},
            ),
        ),
    ),
]
