"""Sizes of the demo district: ``tiny`` (tests), ``small`` (demos), ``district`` and ``metro`` (benchmarks).

Figures follow ``/work/shared/domain.md``: a typical mid-size district holds 10,000–50,000
devices at 10–60 sites; the "metro" benchmark is 1,000,000 people, 1,200,000 devices and
1,800 sites with five years of history.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scale:
    """Parameters of one demo size. Counts are exact totals unless noted.

    ``students`` includes a few graduated, withdrawn and inactive students; ``staff`` are
    people records (not logins). ``devices`` counts every device row, accessories and
    retired devices included. ``history_years``: the history covers every school year
    that overlaps the last ``history_years`` years, each from its August start (so one
    more school year than that while the current one is under way). ``dense_history``:
    past years get a full roster (see ``demo.history.SiteContext.dense``) instead of only
    the students who were at that school then. ``batch_size`` is rows per insert batch.
    """

    name: str
    high_schools: int
    middle_schools: int
    elementary_schools: int
    support_sites: int
    students: int
    staff: int
    devices: int
    history_years: int
    dense_history: bool = False
    batch_size: int = 5000

    @property
    def sites(self) -> int:
        """Total number of sites (schools and support sites)."""
        return self.high_schools + self.middle_schools + self.elementary_schools + self.support_sites

    @property
    def people(self) -> int:
        """Students plus staff."""
        return self.students + self.staff


#: The sizes ``generate(scale=...)`` and ``seed_demo --scale`` accept.
SCALES: dict[str, Scale] = {
    "tiny": Scale(
        name="tiny",
        high_schools=1,
        middle_schools=0,
        elementary_schools=1,
        support_sites=0,
        students=60,
        staff=10,
        devices=80,
        history_years=1,
    ),
    # Like tiny, with five years of dense history: exercises the metro code paths in tests.
    "tiny_history": Scale(
        name="tiny_history",
        high_schools=1,
        middle_schools=0,
        elementary_schools=1,
        support_sites=0,
        students=60,
        staff=10,
        devices=80,
        history_years=5,
        dense_history=True,
    ),
    "small": Scale(
        name="small",
        high_schools=1,
        middle_schools=2,
        elementary_schools=4,
        support_sites=1,
        students=4_000,
        staff=300,
        devices=4_500,
        history_years=1,
    ),
    "district": Scale(
        name="district",
        high_schools=6,
        middle_schools=8,
        elementary_schools=24,
        support_sites=2,
        students=42_000,
        staff=3_000,
        devices=50_000,
        history_years=1,
    ),
    "metro": Scale(
        name="metro",
        high_schools=330,
        middle_schools=360,
        elementary_schools=1_100,
        support_sites=10,
        students=930_000,
        staff=70_000,
        devices=1_200_000,
        history_years=5,
        dense_history=True,
    ),
}
