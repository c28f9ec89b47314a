"""A ready-made small world for tests: the ``tiny`` demo district at a fixed time.

Use it from any test with database access::

    from demo.testing import seed_tiny

    @pytest.mark.django_db
    def test_something():
        summary = seed_tiny()          # 2 sites, 60 students, 10 staff, 80 devices, ~1.5 years of history
        site = Site.objects.order_by("id").first()   # the high school; "site-tech" and "principal" work here

Logins: ``district-admin``, ``district-tech``, ``site-tech``, ``principal``, ``auditor``
(password ``demo``). The data is the same on every run.
"""

from __future__ import annotations

import datetime

from demo.generator import DemoSummary, generate

#: The fixed "now" of test data: Monday 2 March 2026, 9:00 in Chicago (mid school year).
DEMO_NOW = datetime.datetime(2026, 3, 2, 15, 0, tzinfo=datetime.UTC)


def seed_tiny(*, seed: int = 2026, now: datetime.datetime | None = None) -> DemoSummary:
    """Seed the ``tiny`` demo district (takes well under a second after the first password hash).

    ``now`` defaults to :data:`DEMO_NOW`. Raises ``DemoAlreadySeededError`` when sites exist.
    """
    return generate(scale="tiny", seed=seed, now=now or DEMO_NOW)
