"""Fixtures for the import tests: jobs run inline, uploads go to a temporary MEDIA_ROOT."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _imports_inline(settings, tmp_path_factory):  # type: ignore[no-untyped-def]
    """Import jobs run synchronously in tests, and uploads are stored in a temporary folder."""
    settings.IMPORTS_RUN_INLINE = True
    settings.MEDIA_ROOT = tmp_path_factory.mktemp("media")
