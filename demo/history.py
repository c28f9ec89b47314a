"""Simulated school years for one site: the custody history the services would have written.

:class:`SiteHistory` replays back-to-school distribution, mid-year damage, repairs, loaners,
losses, thefts, withdrawals, year-end collection and summer retirements as a
discrete-event simulation (a time-ordered queue of actions), stopping at ``now``. Every
change goes through small mirrors of ``custody.services`` and ``inventory.services``
(:meth:`SiteHistory.check_out`, :meth:`~SiteHistory.check_in`,
:meth:`~SiteHistory.status_change`…) that write the same assignment fields and event
``before``/``after`` shapes, so the rows are exactly what the services would produce:

* a device is ``assigned`` if and only if it has one open assignment, except lost and
  stolen devices, which keep theirs (the holder stays responsible);
* every assignment has a ``checked_out`` event, and a ``checked_in`` event once closed,
  with the same time, person, person label and actor label;
* every device has a ``created`` event; lost, stolen, retired and in-repair devices got
  there through a ``status_changed`` event.
"""

from __future__ import annotations

import bisect
import datetime
import heapq
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import accumulate
from typing import Any
from zoneinfo import ZoneInfo

from custody.models import Assignment
from demo.catalog import DAMAGE_NOTES, ModelSpec
from inventory.models import Device, DeviceEvent

UTC = datetime.UTC
IN_STOCK = Device.Status.IN_STOCK.value
ASSIGNED = Device.Status.ASSIGNED.value
LOANER_POOL = Device.Status.LOANER_POOL.value
IN_REPAIR = Device.Status.IN_REPAIR.value
LOST = Device.Status.LOST.value
STOLEN = Device.Status.STOLEN.value
RETIRED = Device.Status.RETIRED.value
CHECKOUT_READY = (IN_STOCK, LOANER_POOL)

KIND_CREATED = DeviceEvent.Kind.CREATED.value
KIND_OUT = DeviceEvent.Kind.CHECKED_OUT.value
KIND_IN = DeviceEvent.Kind.CHECKED_IN.value
KIND_STATUS = DeviceEvent.Kind.STATUS_CHANGED.value
KIND_MOVED = DeviceEvent.Kind.MOVED.value
KIND_BUNDLED = DeviceEvent.Kind.BUNDLED.value
SOURCE_WEB = DeviceEvent.Source.WEB.value
SOURCE_IMPORT = DeviceEvent.Source.IMPORT.value

#: Categories handed out and pooled on their own (accessories travel with their device).
POOLED_CATEGORIES = ("chromebook", "tablet", "laptop", "hotspot")

#: Yearly chances per distributed student device (domain.md: ~5% lost, ~1% stolen, 10–30% damaged).
P_STOLEN = 0.01
P_LOST_MIDYEAR = 0.045
P_FOUND = 0.3
P_DAMAGE_MIDYEAR = 0.15
P_BEYOND_REPAIR = 0.12
P_UNRETURNED = 0.02
P_LOANER_UNRETURNED = 0.10
P_HOTSPOT_UNRETURNED = 0.04
P_CHARGER_MISSING = 0.06
P_HOTSPOT_ELIGIBLE = 0.7
P_HOTSPOT_OTHER = 0.01


def weighted(pairs: Iterable[tuple[Any, float]]) -> tuple[tuple[Any, ...], tuple[float, ...]]:
    """A weighted table for :func:`pick`: ``((value, weight), …)`` → (values, cumulative weights)."""
    items = tuple(pairs)
    return tuple(v for v, _ in items), tuple(accumulate(w for _, w in items))


def pick(rng: random.Random, table: tuple[tuple[Any, ...], tuple[float, ...]]) -> Any:
    """One value from a :func:`weighted` table (same draw as ``rng.choices(values, cum_weights=…)[0]``)."""
    values, cumulative = table
    return values[bisect.bisect(cumulative, rng.random() * cumulative[-1], 0, len(values) - 1)]


RETURN_CONDITIONS = weighted((("good", 0.78), ("fair", 0.12), ("damaged", 0.07), ("missing_parts", 0.03)))

LOST_NOTES = (
    "Family reports it lost",
    "Left on the school bus",
    "Not found after a move",
    "Lost at home; family searching",
)
FOUND_NOTES = ("Turned in at the front office", "Found by the family", "Found by the bus driver")

CEDS_INDEX = {"KG": 0, **{f"{n:02d}": n for n in range(1, 13)}}


def weekdays(first: datetime.date, last: datetime.date) -> list[datetime.date]:
    """Monday–Friday dates from ``first`` to ``last`` inclusive."""
    days = []
    day = first
    while day <= last:
        if day.weekday() < 5:
            days.append(day)
        day += datetime.timedelta(days=1)
    return days


def _monday_on_or_after(day: datetime.date) -> datetime.date:
    return day + datetime.timedelta(days=(7 - day.weekday()) % 7)


@dataclass(frozen=True)
class SchoolYear:
    """The calendar of one school year starting in August of ``start_year`` (local dates).

    ``inservice`` are staff days before students come; ``distribution`` the back-to-school
    check-out days; ``collection`` the year-end collection days (``due_on`` is the last);
    ``summer`` is when summer repairs and retirements are done; ``arrival`` the day new
    devices for this year are received (July).
    """

    start_year: int
    arrival: datetime.date
    inservice: tuple[datetime.date, ...]
    distribution: tuple[datetime.date, ...]
    collection: tuple[datetime.date, ...]
    summer: datetime.date

    @property
    def due_on(self) -> datetime.date:
        """Due date of student check-outs: the last collection day."""
        return self.collection[-1]

    def in_session(self, day: datetime.date) -> bool:
        """True from the first distribution day until the day before collection starts."""
        return self.distribution[0] <= day < self.collection[0]

    @classmethod
    def for_year(cls, start_year: int) -> SchoolYear:
        """The calendar of the school year that starts in August ``start_year``."""
        first_day = _monday_on_or_after(datetime.date(start_year, 8, 12))
        collect_first = _monday_on_or_after(datetime.date(start_year + 1, 5, 24))
        distribution = weekdays(first_day, first_day + datetime.timedelta(days=11))[:8]
        collection = weekdays(collect_first, collect_first + datetime.timedelta(days=11))[:8]
        return cls(
            start_year=start_year,
            arrival=datetime.date(start_year, 7, 22),
            inservice=tuple(weekdays(first_day - datetime.timedelta(days=5), first_day - datetime.timedelta(days=1))),
            distribution=tuple(distribution),
            collection=tuple(collection),
            summer=collection[-1] + datetime.timedelta(days=21),
        )


def school_years(*, today: datetime.date, count: int, start_month: int = 8, start_day: int = 1) -> list[SchoolYear]:
    """The school years that overlap the ``count`` years up to ``today``, oldest first.

    Each is simulated from its start, so the history reaches back to the August before
    ``today`` minus ``count`` years: with ``count=1`` in November 2026 that is the whole
    2025-26 year (its losses and year-end collection) and 2026-27 so far.
    """

    def year_of(day: datetime.date) -> int:
        """The start year of the school year ``day`` falls in."""
        return day.year if (day.month, day.day) >= (start_month, start_day) else day.year - 1

    current = year_of(today)
    try:
        back = today.replace(year=today.year - count)
    except ValueError:  # 29 February
        back = today.replace(year=today.year - count, day=28)
    return [SchoolYear.for_year(year) for year in range(year_of(back), current + 1)]


@dataclass(frozen=True)
class Actor:
    """A staff login as history records it: ``id`` (or None for the system) and its label."""

    id: int | None
    label: str


class Holder:
    """A person in the simulation. ``grade`` is 0 (KG) … 12, 13 for last year's graduates, -1 for staff.

    ``active_until`` is when the person stopped being able to receive devices (None:
    still can); ``leaves_at`` when they left during the current year (their devices come
    back then).
    """

    __slots__ = ("id", "label", "grade", "fee", "active_until", "leaves_at", "open")

    def __init__(self, *, id: int, label: str, grade: int, fee: bool,
                 active_until: datetime.datetime | None, leaves_at: datetime.datetime | None) -> None:  # fmt: skip
        self.id = id
        self.label = label
        self.grade = grade
        self.fee = fee
        self.active_until = active_until
        self.leaves_at = leaves_at
        self.open: list[Asg] = []

    def eligible(self, at: datetime.datetime) -> bool:
        """True when the person may receive a device at ``at``."""
        return self.active_until is None or at < self.active_until


class Dev:
    """A device in the simulation: its final row fields are read from here after the run."""

    __slots__ = ("id", "tag", "spec", "category", "cohort", "loaner", "purchase_date", "primary", "accessories",
                 "status", "asg", "last_at", "used", "location", "pool", "pool_index", "static")  # fmt: skip

    def __init__(self, *, id: int, tag: str, spec: ModelSpec, cohort: int, loaner: bool,
                 purchase_date: datetime.date, static: tuple[Any, ...]) -> None:  # fmt: skip
        self.id = id
        self.tag = tag
        self.spec = spec
        self.category = spec.category
        self.cohort = cohort
        self.loaner = loaner
        self.purchase_date = purchase_date
        self.primary: Dev | None = None
        self.accessories: list[Dev] = []
        self.status = ""
        self.asg: Asg | None = None
        self.last_at: datetime.datetime | None = None
        self.used = False
        self.location: tuple[int, str] | None = None
        self.pool: Pool | None = None
        self.pool_index = -1
        self.static = static


class Asg:
    """One assignment row being built: open until ``in_at`` is set."""

    __slots__ = ("device", "person", "is_loaner", "out_at", "out_by", "due_on", "cond_out", "notes", "in_at",
                 "in_by", "cond_in")  # fmt: skip

    def __init__(self, *, device: Dev, person: Holder, is_loaner: bool, out_at: datetime.datetime, out_by: Actor,
                 due_on: datetime.date | None, cond_out: str, notes: str) -> None:  # fmt: skip
        self.device = device
        self.person = person
        self.is_loaner = is_loaner
        self.out_at = out_at
        self.out_by = out_by
        self.due_on = due_on
        self.cond_out = cond_out
        self.notes = notes
        self.in_at: datetime.datetime | None = None
        self.in_by: Actor | None = None
        self.cond_in = ""

    def row(self) -> tuple[Any, ...]:
        """The assignment row, in :data:`ASSIGNMENT_COLUMNS` order."""
        return (self.device.id, self.person.id, self.person.label, self.is_loaner, self.out_at, self.out_by.id,
                self.out_by.label, self.due_on, self.cond_out, self.in_at, self.in_by.id if self.in_by else None,
                self.in_by.label if self.in_by else "", self.cond_in, self.notes, None)  # fmt: skip


ASSIGNMENT_COLUMNS = (
    "device_id", "person_id", "holder_label", "is_loaner", "checked_out_at", "checked_out_by_id",
    "checked_out_by_label", "due_on", "condition_out", "checked_in_at", "checked_in_by_id", "checked_in_by_label",
    "condition_in", "notes", "submission_key",
)  # fmt: skip
EVENT_COLUMNS = (
    "device_id", "occurred_at", "kind", "actor_id", "actor_label", "person_id", "person_label", "before", "after",
    "note", "source", "import_run_id",
)  # fmt: skip


class Pool:
    """Devices available in one category: O(1) add, remove and random pick."""

    __slots__ = ("items",)

    def __init__(self) -> None:
        self.items: list[Dev] = []

    def __len__(self) -> int:
        return len(self.items)

    def add(self, dev: Dev) -> None:
        """Make ``dev`` available."""
        dev.pool = self
        dev.pool_index = len(self.items)
        self.items.append(dev)

    def remove(self, dev: Dev) -> None:
        """Take ``dev`` out (it must be in this pool)."""
        last = self.items.pop()
        if last is not dev:
            self.items[dev.pool_index] = last
            last.pool_index = dev.pool_index
        dev.pool = None
        dev.pool_index = -1

    def pick(self, rng: random.Random) -> Dev:
        """A random available device (still in the pool until its status changes)."""
        return self.items[rng.randrange(len(self.items))]


@dataclass
class SiteContext:
    """What the simulation needs to know about the site.

    ``grades`` is the (lowest, highest) grade index served, or None for support sites;
    ``locations`` maps a location role (``loaner``, ``cart_chromebook``, ``cart_tablet``,
    ``shelf``, ``office``, ``bay``…) to ``(location id, label as history shows it)``
    choices. ``reserve`` is how many devices per category stay back from distribution
    as spares for replacements. ``dense``: in past years, students who were not at this
    school yet count as if they were (their grade wrapped into the school's span), so
    every simulated year has a full roster (multi-year benchmark scales); otherwise
    students appear only in the years their grade was served here.
    """

    code: str
    grades: tuple[int, int] | None
    locations: dict[str, list[tuple[int, str]]]
    reserve: dict[str, int]
    dense: bool = False


class SiteHistory:
    """Runs the school years of one site and emits assignment and event rows.

    ``actor`` does the day-to-day work (check-outs, repairs); ``import_actor`` loaded
    the initial inventory. ``emit_event`` receives event rows (:data:`EVENT_COLUMNS`);
    assignments are collected in :attr:`assignments` and read after :meth:`run`.
    ``current_year`` is the start year of the school year in progress at ``now``.
    """

    def __init__(self, *, rng: random.Random, now: datetime.datetime, tz: ZoneInfo, years: list[SchoolYear],
                 site: SiteContext, devices: list[Dev], students: list[Holder], staff: list[Holder],
                 actor: Actor, import_actor: Actor, emit_event: Callable[[tuple[Any, ...]], None]) -> None:  # fmt: skip
        self.rng = rng
        self.now = now
        self.tz = tz
        self.years = years
        self.current_year = years[-1].start_year
        self.site = site
        self.devices = devices
        self.students = students
        self.staff = staff
        self.actor = actor
        self.import_actor = import_actor
        self.emit = emit_event
        self.assignments: list[Asg] = []
        self.stock: dict[str, Pool] = {category: Pool() for category in POOLED_CATEGORIES}
        self.loaners: dict[str, Pool] = {category: Pool() for category in POOLED_CATEGORIES}
        self._queue: list[tuple[datetime.datetime, int, Callable[..., None], tuple[Any, ...]]] = []
        self._seq = 0
        self._police_report = rng.randint(1000, 9000)
        self._midyear_days: dict[int, list[datetime.date]] = {}
        self._floor = datetime.datetime.min.replace(tzinfo=UTC)

    # -- time -----------------------------------------------------------------------------

    def clock(self, day: datetime.date, start: int = 7 * 60 + 30, end: int = 15 * 60 + 30) -> datetime.datetime:
        """A random time on local ``day`` between ``start`` and ``end`` (minutes after midnight), in UTC."""
        minute = self.rng.randrange(start, end)
        local = datetime.datetime(day.year, day.month, day.day, minute // 60, minute % 60, self.rng.randrange(60),
                                  tzinfo=self.tz)  # fmt: skip
        return local.astimezone(UTC)

    def local_date(self, at: datetime.datetime) -> datetime.date:
        """The district-local date of an aware time."""
        return at.astimezone(self.tz).date()

    def school_day_after(self, at: datetime.datetime, low: int, high: int) -> datetime.datetime:
        """A random school-hours time on a weekday ``low``–``high`` days after ``at``."""
        day = self.local_date(at) + datetime.timedelta(days=self.rng.randint(low, high))
        while day.weekday() >= 5:
            day += datetime.timedelta(days=1)
        return self.clock(day)

    def stamp(self, at: datetime.datetime) -> datetime.datetime:
        """The time to record for a change wanted at ``at``: never before the previous one, never after ``now``.

        Actions run in time order but write a few changes minutes apart (check-in, then
        repair, then loaner); without this floor a later action's change could be
        stamped before an earlier action's, and a device's history would go backwards.
        """
        at = min(max(at, self._floor), self.now)
        self._floor = at
        return at

    def schedule(self, at: datetime.datetime, action: Callable[..., None], *args: Any) -> None:
        """Run ``action(at, *args)`` at ``at``; actions after ``now`` never happen."""
        if at <= self.now:
            self._seq += 1
            heapq.heappush(self._queue, (at, self._seq, action, args))

    # -- the service mirrors ----------------------------------------------------------------

    def _set_status(self, dev: Dev, status: str) -> None:
        if dev.pool is not None:
            dev.pool.remove(dev)
        dev.status = status
        if dev.primary is None and dev.category in POOLED_CATEGORIES:
            if status == IN_STOCK:
                self.stock[dev.category].add(dev)
            elif status == LOANER_POOL:
                self.loaners[dev.category].add(dev)

    def _event(self, dev: Dev, at: datetime.datetime, kind: str, actor: Actor, before: dict[str, Any],
               after: dict[str, Any], *, person: Holder | None = None, note: str = "",
               source: str = SOURCE_WEB, stamp: bool = True) -> None:  # fmt: skip
        at = self.stamp(at) if stamp else min(at, self.now)
        dev.last_at = at
        self.emit((dev.id, at, kind, actor.id, actor.label, person.id if person else None,
                   person.label if person else "", before, after, note, source, None))  # fmt: skip

    def create(self, dev: Dev, at: datetime.datetime, *, actor: Actor, source: str) -> None:
        """``inventory.services.device_create``: the device appears in stock or in the loaner pool."""
        self._set_status(dev, LOANER_POOL if dev.loaner else IN_STOCK)
        after = {"asset_tag": dev.tag, "status": dev.status, "owner_site": self.site.code,
                 "current_site": self.site.code}  # fmt: skip
        self._event(dev, at, KIND_CREATED, actor, {}, after, source=source)

    def bundle(self, accessory: Dev, primary: Dev, at: datetime.datetime, *, actor: Actor, source: str) -> None:
        """``inventory.services.device_bundle``: the accessory goes out and back with ``primary``."""
        accessory.primary = primary
        primary.accessories.append(accessory)
        primary.accessories.sort(key=lambda d: d.tag)
        if accessory.pool is not None:
            accessory.pool.remove(accessory)
        self._event(accessory, at, KIND_BUNDLED, actor, {"bundled_with": None}, {"bundled_with": primary.tag},
                    source=source)  # fmt: skip

    def _open(self, dev: Dev, person: Holder, at: datetime.datetime, due_on: datetime.date | None, condition: str,
              notes: str, is_loaner: bool) -> Asg:  # fmt: skip
        at = self.stamp(at)
        before = {"status": dev.status, "holder": None}
        asg = Asg(device=dev, person=person, is_loaner=is_loaner, out_at=at, out_by=self.actor, due_on=due_on,
                  cond_out=condition, notes=notes)  # fmt: skip
        self.assignments.append(asg)
        person.open.append(asg)
        dev.asg = asg
        dev.used = True
        self._set_status(dev, ASSIGNED)
        after = {"status": ASSIGNED, "holder": person.label, "due_on": due_on.isoformat() if due_on else None,
                 "condition": condition, "loaner": is_loaner}  # fmt: skip
        self._event(dev, at, KIND_OUT, self.actor, before, after, person=person, note=notes)
        return asg

    def check_out(self, dev: Dev, person: Holder, at: datetime.datetime, *, due_on: datetime.date | None,
                  notes: str = "", bundle: bool = True) -> Asg:  # fmt: skip
        """``custody.services.device_check_out``: the device and its ready accessories go to ``person``."""
        is_loaner = dev.status == LOANER_POOL
        fresh = not dev.used and (self.local_date(at) - dev.purchase_date).days < 180
        condition = Assignment.Condition.NEW.value if fresh else Assignment.Condition.GOOD.value
        asg = self._open(dev, person, at, due_on, condition, notes, is_loaner)
        if bundle:
            for accessory in dev.accessories:
                if accessory.status in CHECKOUT_READY:
                    self._open(accessory, person, at, due_on, condition, notes, is_loaner)
        return asg

    def _close(self, dev: Dev, asg: Asg, at: datetime.datetime, condition: str, notes: str) -> None:
        before = {"status": dev.status, "holder": asg.person.label}
        asg.in_at = max(self.stamp(at), asg.out_at)
        asg.in_by = self.actor
        asg.cond_in = condition
        if notes:
            asg.notes = f"{asg.notes}\n{notes}".strip()
        asg.person.open.remove(asg)
        dev.asg = None
        self._set_status(dev, LOANER_POOL if asg.is_loaner else IN_STOCK)
        after = {"status": dev.status, "holder": None, "condition": condition}
        self._event(dev, asg.in_at, KIND_IN, self.actor, before, after, person=asg.person, note=notes)

    def check_in(self, dev: Dev, at: datetime.datetime, condition: str, *, notes: str = "",
                 bundle: bool = True) -> None:  # fmt: skip
        """``custody.services.device_check_in``: back to stock (or the loaner pool), with accessories the same person holds."""
        asg = dev.asg
        assert asg is not None
        self._close(dev, asg, at, condition, notes)
        if bundle:
            for accessory in dev.accessories:
                other = accessory.asg
                if other is not None and other.person is asg.person:
                    self._close(accessory, other, at, condition, notes)

    def status_change(self, dev: Dev, to: str, at: datetime.datetime, *, note: str = "") -> None:
        """``inventory.services._status_change`` (lost, stolen, found, retired, in repair, repaired)."""
        before = {"status": dev.status}
        self._set_status(dev, to)
        self._event(dev, at, KIND_STATUS, self.actor, before, {"status": to}, note=note)

    def retire(self, dev: Dev, at: datetime.datetime, *, note: str) -> None:
        """``inventory.services.device_retire``: accessories are unbundled (without events), then retired."""
        for accessory in dev.accessories:
            accessory.primary = None
            if accessory.status in (IN_STOCK, LOANER_POOL):
                self._set_status(accessory, accessory.status)
        dev.accessories = []
        self.status_change(dev, RETIRED, at, note=note)

    def move(self, dev: Dev, at: datetime.datetime, location: tuple[int, str]) -> None:
        """``inventory.services.device_move`` from no location to ``location``."""
        dev.location = location
        self._event(dev, at, KIND_MOVED, self.actor, {"location": None}, {"location": location[1]}, stamp=False)

    # -- helpers ------------------------------------------------------------------------------

    def _grade_in(self, holder: Holder, year: SchoolYear) -> int:
        grade = holder.grade - (self.current_year - year.start_year)
        if self.site.dense and self.site.grades is not None:
            low, high = self.site.grades
            if grade < low:
                grade = low + (grade - low) % (high - low + 1)
        return grade

    def _midyear(self, year: SchoolYear) -> list[datetime.date]:
        days = self._midyear_days.get(year.start_year)
        if days is None:
            days = weekdays(year.distribution[-1] + datetime.timedelta(days=1),
                            year.collection[0] - datetime.timedelta(days=1))  # fmt: skip
            self._midyear_days[year.start_year] = days
        return days

    def _take(self, category: str, *, keep: int = 0) -> Dev | None:
        pool = self.stock[category]
        if len(pool) <= keep:
            return None
        return pool.pick(self.rng)

    def _take_loaner(self, category: str) -> Dev | None:
        for pool in (self.loaners[category], *self.loaners.values()):
            if len(pool):
                return pool.pick(self.rng)
        return None

    def _lose_accessories(self, dev: Dev, holder: Holder, at: datetime.datetime, to: str) -> None:
        for accessory in dev.accessories:
            if accessory.asg is not None and accessory.asg.person is holder and accessory.status == ASSIGNED:
                self.status_change(accessory, to, at, note=f"Went missing with {dev.tag}")

    # -- the story ------------------------------------------------------------------------------

    def run(self) -> None:
        """Simulate every school year up to ``now``; then shelve what is in stock."""
        arrivals: dict[int, list[Dev]] = {}
        for dev in self.devices:
            arrivals.setdefault(min(dev.cohort, len(self.years) - 1), []).append(dev)
        for index, year in enumerate(self.years):
            first = index == 0
            at = min(self.clock(year.arrival, 9 * 60, 9 * 60 + 30), self.now)
            self._arrive(at, arrivals.get(index, []), first)
            self.schedule(self.clock(year.inservice[0], 6 * 60, 6 * 60 + 1), self.start_year, year, first)
            if year is not self.years[-1]:
                self.schedule(self.clock(year.summer, 8 * 60, 9 * 60), self.summer, year)
            while self._queue and (index == len(self.years) - 1 or self._queue[0][0] < self._next_arrival(index)):
                when, _, action, args = heapq.heappop(self._queue)
                action(when, *args)
        self._shelve()

    def _next_arrival(self, index: int) -> datetime.datetime:
        day = self.years[index + 1].arrival
        return datetime.datetime(day.year, day.month, day.day, tzinfo=self.tz).astimezone(UTC)

    def _arrive(self, at: datetime.datetime, devices: list[Dev], first: bool) -> None:
        actor, source = (self.import_actor, SOURCE_IMPORT) if first else (self.actor, SOURCE_WEB)
        for dev in devices:
            self.create(dev, at, actor=actor, source=source)
        later = min(at + datetime.timedelta(minutes=1), self.now)
        for dev in devices:
            if dev.primary is not None:
                primary, dev.primary = dev.primary, None
                self.bundle(dev, primary, max(later, at), actor=actor, source=source)

    def start_year(self, at: datetime.datetime, year: SchoolYear, first: bool) -> None:
        """Before students come: retire worn-out spares, hand staff their laptops, plan distribution."""
        if first:
            self._retire_aged(at, year.inservice[0], chance=0.1)
            for holder in self.staff:
                when = self.clock(self.rng.choice(year.inservice))
                if holder.eligible(when):
                    self.schedule(when, self.issue_laptop, holder)
        if self.site.grades is not None:
            low, high = self.site.grades
            for holder in self.students:
                grade = self._grade_in(holder, year)
                if low <= grade <= high:
                    self.schedule(self.clock(self.rng.choice(year.distribution)), self.distribute, holder, year)
        if year.start_year == self.current_year:
            for holder in (*self.students, *self.staff):
                if holder.leaves_at is not None:
                    self.schedule(holder.leaves_at, self.leave, holder)
        self.schedule(self.clock(year.collection[0], 6 * 60, 6 * 60 + 1), self.end_year, year)

    def issue_laptop(self, at: datetime.datetime, holder: Holder) -> None:
        """In-service days: a staff member gets a laptop, kept across school years."""
        dev = self._take("laptop")
        if dev is not None:
            self.check_out(dev, holder, at, due_on=None)

    def distribute(self, at: datetime.datetime, holder: Holder, year: SchoolYear) -> None:
        """Back to school: a Chromebook (grades 3–12) or iPad (K–2), maybe a hotspot; draw this year's incident."""
        if not holder.eligible(at):
            return
        grade = self._grade_in(holder, year)
        category = "tablet" if grade <= 2 else "chromebook"
        dev = self._take(category, keep=self.site.reserve.get(category, 0))
        if dev is not None:
            asg = self.check_out(dev, holder, at, due_on=year.due_on)
            roll = self.rng.random()
            when = self.clock(self.rng.choice(self._midyear(year)))
            if roll < P_STOLEN:
                self.schedule(when, self.stolen, dev, asg, year)
            elif roll < P_STOLEN + P_LOST_MIDYEAR:
                self.schedule(when, self.lost, dev, asg, year)
            elif roll < P_STOLEN + P_LOST_MIDYEAR + P_DAMAGE_MIDYEAR:
                self.schedule(when, self.damaged, dev, asg, year)
        wants_hotspot = self.rng.random() < (P_HOTSPOT_ELIGIBLE if holder.fee and grade >= 3 else P_HOTSPOT_OTHER)
        if wants_hotspot:
            hotspot = self._take("hotspot")
            if hotspot is not None:
                self.check_out(hotspot, holder, at + datetime.timedelta(minutes=1), due_on=year.due_on)

    def damaged(self, at: datetime.datetime, dev: Dev, asg: Asg, year: SchoolYear) -> None:
        """Broken: checked in, sent to repair, a loaner meanwhile."""
        if dev.asg is not asg or dev.status != ASSIGNED:
            return
        holder = asg.person
        what = self.rng.choice(DAMAGE_NOTES)
        condition = "broken" if what == "Will not power on" else "damaged"
        self.check_in(dev, at, condition, notes=what)
        self.status_change(dev, IN_REPAIR, at + datetime.timedelta(minutes=2), note=f"Sent for repair: {what.lower()}")
        loaner_asg = None
        loaner = self._take_loaner(dev.category) if holder.eligible(at) else None
        if loaner is not None:
            due = self.local_date(at) + datetime.timedelta(days=14)
            loaner_asg = self.check_out(loaner, holder, at + datetime.timedelta(minutes=4), due_on=due,
                                        notes=f"Loaner while {dev.tag} is in repair")  # fmt: skip
        self.schedule(self.school_day_after(at, 3, 21), self.repaired, dev, holder, loaner_asg, year, what)

    def repaired(self, at: datetime.datetime, dev: Dev, holder: Holder, loaner_asg: Asg | None, year: SchoolYear,
                 what: str) -> None:  # fmt: skip
        """Back from repair (or written off): the student gets it, or a replacement, and returns the loaner."""
        if dev.status != IN_REPAIR:
            return
        in_session = year.in_session(self.local_date(at)) and holder.eligible(at)
        replacement: Dev | None
        if self.rng.random() < P_BEYOND_REPAIR:
            self.retire(dev, at, note=f"Beyond economical repair ({what.lower()})")
            replacement = self._take(dev.category) if in_session else None
            notes = f"Replaces {dev.tag} (beyond repair)"
        else:
            self.status_change(dev, IN_STOCK, at, note=f"Repaired: {what.lower()}")
            replacement = dev if in_session else None
            notes = ""
        if replacement is not None:
            self.check_out(replacement, holder, at + datetime.timedelta(minutes=5), due_on=year.due_on, notes=notes)
            loaner = loaner_asg.device if loaner_asg is not None else None
            if loaner is not None and loaner.asg is loaner_asg and loaner.status == ASSIGNED:
                self.check_in(loaner, at + datetime.timedelta(minutes=6), "good")

    def lost(self, at: datetime.datetime, dev: Dev, asg: Asg, year: SchoolYear) -> None:
        """Reported lost: marked lost (the check-out stays open); found later or replaced."""
        if dev.asg is not asg or dev.status != ASSIGNED:
            return
        holder = asg.person
        self.status_change(dev, LOST, at, note=self.rng.choice(LOST_NOTES))
        self._lose_accessories(dev, holder, at, LOST)
        if self.rng.random() < P_FOUND:
            when = self.school_day_after(at, 2, 25)
            if self.local_date(when) < year.collection[0]:
                self.schedule(when, self.found, dev)
                return
        self.schedule(self.school_day_after(at, 1, 4), self.replace, holder, dev, year, "lost")

    def found(self, at: datetime.datetime, dev: Dev) -> None:
        """``device_mark_found``: assigned again while its check-out is open.

        If the holder has left meanwhile, the device is checked in instead (a check-in of
        a lost device also marks it found).
        """
        if dev.status != LOST:
            return
        note = self.rng.choice(FOUND_NOTES)
        if dev.asg is not None and not dev.asg.person.eligible(at):
            self.check_in(dev, at, "good", notes=f"{note}; the holder has left")
            return
        self.status_change(dev, ASSIGNED if dev.asg is not None else IN_STOCK, at, note=note)
        for accessory in dev.accessories:
            if accessory.status == LOST:
                self.status_change(accessory, ASSIGNED if accessory.asg is not None else IN_STOCK, at, note=note)

    def stolen(self, at: datetime.datetime, dev: Dev, asg: Asg, year: SchoolYear) -> None:
        """Reported stolen with a police report: marked stolen and replaced."""
        if dev.asg is not asg or dev.status != ASSIGNED:
            return
        self._police_report += self.rng.randint(1, 40)
        day = self.local_date(at)
        note = f"Police report #{day.year}-{self._police_report:06d} filed {day.isoformat()}"
        self.status_change(dev, STOLEN, at, note=note)
        self._lose_accessories(dev, asg.person, at, STOLEN)
        self.schedule(self.school_day_after(at, 1, 4), self.replace, asg.person, dev, year, "stolen")

    def replace(self, at: datetime.datetime, holder: Holder, old: Dev, year: SchoolYear, reason: str) -> None:
        """A replacement from the site's spares, while the year is in session."""
        if not holder.eligible(at) or not year.in_session(self.local_date(at)):
            return
        dev = self._take(old.category)
        if dev is not None:
            self.check_out(dev, holder, at, due_on=year.due_on, notes=f"Replaces {old.tag} ({reason})")

    def leave(self, at: datetime.datetime, holder: Holder) -> None:
        """Withdrawn or gone inactive: everything they hold comes back (lost and stolen stay open)."""
        for asg in list(holder.open):
            dev = asg.device
            if dev.asg is asg and dev.status == ASSIGNED:
                self.check_in(dev, at, "good", notes="Returned when leaving")

    def end_year(self, at: datetime.datetime, year: SchoolYear) -> None:
        """Year-end collection: every student with something out gets a collection time."""
        last = self.clock(year.collection[-1], 16 * 60, 16 * 60 + 30)
        for holder in self.students:
            if holder.open:
                self.schedule(self.clock(self.rng.choice(year.collection)), self.collect, holder, last)

    def collect(self, at: datetime.datetime, holder: Holder, last: datetime.datetime) -> None:
        """One student's year-end return: condition noted; a few never come back; chargers go missing."""
        for asg in list(holder.open):
            dev = asg.device
            if dev.asg is not asg or dev.status != ASSIGNED:
                continue
            primary = dev.primary
            if primary is not None and primary.asg is not None and primary.asg.person is holder:
                continue
            chance = P_LOANER_UNRETURNED if asg.is_loaner else P_UNRETURNED
            if dev.category == "hotspot":
                chance = P_HOTSPOT_UNRETURNED
            if self.rng.random() < chance:
                self.schedule(last, self.unreturned, dev, asg)
                continue
            condition = pick(self.rng, RETURN_CONDITIONS)
            chargers = [a for a in dev.accessories if a.category == "charger" and a.asg is not None
                        and a.asg.person is holder and a.status == ASSIGNED]  # fmt: skip
            if chargers and self.rng.random() < P_CHARGER_MISSING:
                self.check_in(dev, at, "missing_parts", notes="Returned without its charger", bundle=False)
                for charger in chargers:
                    self.status_change(charger, LOST, at, note="Not returned at year-end collection")
                continue
            self.check_in(dev, at, condition)
            if condition == "damaged":
                self.status_change(dev, IN_REPAIR, at + datetime.timedelta(minutes=2), note="Damaged; summer repair")

    def unreturned(self, at: datetime.datetime, dev: Dev, asg: Asg) -> None:
        """Not back by the end of collection: marked lost, the holder stays responsible."""
        if dev.asg is not asg or dev.status != ASSIGNED:
            return
        self.status_change(dev, LOST, at, note="Not returned at year-end collection")
        self._lose_accessories(dev, asg.person, at, LOST)

    def summer(self, at: datetime.datetime, year: SchoolYear) -> None:
        """Summer: repairs finish (a few are written off) and worn-out spares retire."""
        for dev in self.devices:
            if dev.status == IN_REPAIR:
                if self.rng.random() < P_BEYOND_REPAIR:
                    self.retire(dev, at, note="Beyond economical repair")
                else:
                    self.status_change(dev, IN_STOCK, at, note="Repaired over the summer")
        self._retire_aged(at, year.summer, chance=0.25)

    def _retire_aged(self, at: datetime.datetime, day: datetime.date, *, chance: float) -> None:
        for dev in self.devices:
            if dev.status != IN_STOCK or dev.primary is not None or dev.category not in POOLED_CATEGORIES:
                continue
            spec = dev.spec
            past_aue = spec.aue is not None and spec.aue <= day
            age_months = (day.year - dev.purchase_date.year) * 12 + day.month - dev.purchase_date.month
            worn = age_months > spec.service_life_months + 24
            if (past_aue or worn) and self.rng.random() < chance:
                note = "Past its auto-update expiration" if past_aue else "End of service life"
                self.retire(dev, at, note=note)

    def _shelve(self) -> None:
        """Put what is in stock or in the loaner pool on a shelf, cart or bay (``moved`` events)."""
        places = self.site.locations
        for dev in self.devices:
            if dev.status not in CHECKOUT_READY or dev.primary is not None or dev.last_at is None:
                continue
            if dev.status == LOANER_POOL:
                role = "loaner"
            elif dev.category == "chromebook":
                role = "cart_chromebook"
            elif dev.category == "tablet":
                role = "cart_tablet"
            elif dev.category == "laptop":
                role = "office"
            else:
                role = "shelf"
            choices = places.get(role) or places.get("shelf")
            if not choices:
                continue
            at = min(self.now, dev.last_at + datetime.timedelta(minutes=self.rng.randint(10, 240)))
            self.move(dev, at, self.rng.choice(choices))
