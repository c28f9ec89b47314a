"""Deterministic demo district: sites, people, guardians, devices and their custody history.

``generate(scale="small", seed=2026, now=...)`` fills an empty database with the Maple
Valley Unified School District: the same seed, scale and ``now`` always give the same
rows (asset tags, serials, names, holders, times). Sizes are in :mod:`demo.scales`.

Sites, users and the district settings row go through their services; people,
guardians, locations, devices, assignments and events are written in batches
(``bulk_create``, or ``COPY`` on PostgreSQL) site by site, so memory stays flat at any
scale. Custody history is simulated by :class:`demo.history.SiteHistory`, which mirrors
the services' rules and writes the rows they would write (see that module).
"""

from __future__ import annotations

import bisect
import datetime
import hashlib
import math
import random
import time
import unicodedata
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import accumulate
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import AbstractUser
from django.db import connection, transaction
from django.utils import timezone
from faker import Faker

from accounts.services import staff_role_grant, staff_user_create
from custody.models import Assignment
from demo import catalog
from demo.catalog import MODELS, MODELS_BY_KEY, ModelSpec
from demo.history import (
    ASSIGNMENT_COLUMNS,
    CEDS_INDEX,
    EVENT_COLUMNS,
    Actor,
    Dev,
    Holder,
    SiteContext,
    SiteHistory,
    pick,
    school_years,
    weekdays,
    weighted,
)
from demo.scales import SCALES, Scale
from demo.writer import BatchWriter, IdBlock
from inventory.events import actor_label
from inventory.models import Device, DeviceEvent, DeviceModel, Manufacturer
from people.models import GuardianContact, Person
from people.rules import search_key
from sites.models import District, Location, Site
from sites.services import district_update, site_create

UTC = datetime.UTC
#: Namespace of the demo's OneRoster sourcedIds (uuid5 of the seed and a stable key).
SOURCED_ID_NAMESPACE = uuid.UUID("6f1c1d0e-4a5b-4d38-9a57-0c2f5e7d8b21")
_NAMESPACE_BYTES = SOURCED_ID_NAMESPACE.bytes

PERSON_COLUMNS = (
    "id", "role", "sourced_id", "student_number", "state_id", "given_name", "family_name", "preferred_name",
    "email", "grade", "graduation_year", "home_site_id", "homeroom", "status", "fee_reduction_eligible",
    "created_at", "updated_at", "family_key", "given_key", "preferred_key",
)  # fmt: skip
GUARDIAN_COLUMNS = ("person_id", "sourced_id", "name", "relationship", "email", "phone", "preferred_language")
LOCATION_COLUMNS = ("id", "site_id", "name", "kind", "active")
DEVICE_COLUMNS = (
    "id", "asset_tag", "serial_number", "manufacturer_id", "model_id", "status", "owner_site_id",
    "current_site_id", "location_id", "bundled_with_id", "purchase_date", "purchase_cost", "purchase_order",
    "vendor", "funding_source", "warranty_end", "wifi_mac", "google_device_id", "notes", "created_at", "updated_at",
)  # fmt: skip

#: Rates from domain.md and common SIS data.
FEE_REDUCTION_RATE = 0.08
WITHDRAWN_RATE = 0.012
INACTIVE_RATE = 0.004
TRANSFERRED_RATE = 0.006
GRADUATED_SHARE_OF_HS = 0.03
STAFF_INACTIVE_RATE = 0.03
#: Relative enrollment of schools by kind (each varies ±25%).
SCHOOL_SIZE = {"hs": 1500, "ms": 800, "es": 480}
#: Devices per student, relative, by school kind (secondary schools are 1:1 and take chargers home).
DEVICE_WEIGHT = {"hs": 1.15, "ms": 1.15, "es": 0.95}
SUPPORT_STAFF_SHARE = 0.08
SUPPORT_DEVICE_SHARE = 0.03
#: Weighted tables (see :func:`demo.history.weighted`).
FIRST_GUARDIAN = weighted(catalog.FIRST_GUARDIAN)
SECOND_GUARDIAN = weighted(catalog.SECOND_GUARDIAN)
#: Years before the history starts that the initial fleet was bought (2021 was the ESSER wave).
YEARS_BACK = weighted(((1, 0.2), (2, 0.2), (3, 0.2), (4, 0.25), (5, 0.1), (6, 0.05)))
PANDEMIC_FUNDING = weighted(
    ((Device.FundingSource.ESSER.value, 0.6), (Device.FundingSource.GENERAL_FUND.value, 0.25),
     (Device.FundingSource.BOND.value, 0.15))
)  # fmt: skip
REGULAR_FUNDING = weighted(
    ((Device.FundingSource.GENERAL_FUND.value, 0.55), (Device.FundingSource.BOND.value, 0.25),
     (Device.FundingSource.SITE_FUNDS.value, 0.2))
)  # fmt: skip


class DemoAlreadySeededError(RuntimeError):
    """The database already has sites: demo data goes only into an empty database."""


@dataclass(frozen=True)
class DemoLogin:
    """A demo staff login: ``username``, ``role`` (a StaffRole value) and ``where`` (site code or "district-wide")."""

    username: str
    role: str
    where: str


@dataclass(frozen=True)
class DemoSummary:
    """Counts of what :func:`generate` wrote, and how long it took (``seconds``, wall clock).

    ``devices_by_status`` maps a ``Device.Status`` value to a count; ``logins`` are the
    demo staff logins (password ``demo``).
    """

    scale: str
    seed: int
    now: datetime.datetime
    sites: int
    locations: int
    students: int
    staff: int
    guardians: int
    devices: int
    devices_by_status: dict[str, int]
    assignments: int
    open_assignments: int
    events: int
    logins: tuple[DemoLogin, ...]
    seconds: float

    def lines(self) -> list[str]:
        """The summary as short human-readable lines (for the command's output)."""
        statuses = ", ".join(f"{status} {count:,}" for status, count in sorted(self.devices_by_status.items()))
        return [
            f"Scale {self.scale}, seed {self.seed}, history up to {self.now:%Y-%m-%d %H:%M} UTC",
            f"Sites {self.sites:,}, locations {self.locations:,}",
            f"Students {self.students:,}, staff {self.staff:,}, guardians {self.guardians:,}",
            f"Devices {self.devices:,} ({statuses})",
            f"Assignments {self.assignments:,} ({self.open_assignments:,} open), events {self.events:,}",
            f"Done in {self.seconds:.1f} s",
        ]


def demo_is_seeded() -> bool:
    """True when the database already has sites (demo or real data)."""
    return Site.objects.exists()


def generate(
    *,
    scale: str = "small",
    seed: int = 2026,
    now: datetime.datetime | None = None,
    progress: Callable[[str], None] | None = None,
    use_copy: bool | None = None,
) -> DemoSummary:
    """Fill an empty database with the demo district at ``scale`` (see :data:`demo.scales.SCALES`).

    Deterministic: the same ``seed``, ``scale`` and ``now`` give identical data. ``now``
    (aware; default: the current hour) ends the simulated history; nothing happens after
    it. ``progress`` receives one-line progress messages. ``use_copy`` forces (or
    forbids) PostgreSQL ``COPY``; by default it is used on PostgreSQL. Everything is
    written in one transaction.

    Raises:
        DemoAlreadySeededError: the database already has sites.
        ValueError: unknown scale, or a naive ``now``.
    """
    if scale not in SCALES:
        raise ValueError(f"Unknown scale '{scale}'; choose one of {', '.join(SCALES)}.")
    if now is None:
        now = timezone.now().replace(minute=0, second=0, microsecond=0)
    if timezone.is_naive(now):
        raise ValueError("now must be an aware datetime (e.g. datetime(2026, 3, 2, 15, tzinfo=UTC)).")
    if demo_is_seeded():
        raise DemoAlreadySeededError(
            f"The database already has {Site.objects.count():,} sites; demo data goes only into an empty "
            "database. Flush it first, or use seed_demo --if-empty."
        )
    with transaction.atomic():
        return _Generator(SCALES[scale], seed=seed, now=now.astimezone(UTC), progress=progress,
                          use_copy=use_copy).run()  # fmt: skip


@lru_cache(maxsize=1)
def demo_password_hash() -> str:
    """The hash of the demo password, computed once per process (Argon2 is slow on purpose)."""
    return make_password(catalog.DEMO_PASSWORD)


def apportion(total: int, weights: Sequence[float]) -> list[int]:
    """Split ``total`` into integers proportional to ``weights`` (largest remainder; sums to ``total``)."""
    weight_sum = sum(weights)
    if total <= 0 or weight_sum <= 0:
        return [0] * len(weights)
    exact = [total * w / weight_sum for w in weights]
    shares = [int(x) for x in exact]
    order = sorted(range(len(weights)), key=lambda i: (shares[i] - exact[i], i))
    for i in order[: total - sum(shares)]:
        shares[i] += 1
    return shares


def stable_id(key: str) -> str:
    """A OneRoster-style sourcedId for ``key``: the same string as ``str(uuid.uuid5(SOURCED_ID_NAMESPACE, key))``."""
    digest = bytearray(hashlib.sha1(_NAMESPACE_BYTES + key.encode()).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50
    digest[8] = (digest[8] & 0x3F) | 0x80
    h = digest.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


@lru_cache(maxsize=65536)
def ascii_slug(text: str) -> str:
    """Lower-case ASCII letters and digits only ("José O'Neil" → "joseoneil")."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded.lower() if ch.isalnum())


class AffineCounter:
    """Unique, random-looking values: ``(a * n + b) mod modulus`` for n = 0, 1, 2… (a bijection)."""

    def __init__(self, rng: random.Random, modulus: int) -> None:
        self.modulus = modulus
        self.a = rng.randrange(modulus // 3, modulus)
        while math.gcd(self.a, modulus) != 1:
            self.a += 1
        self.b = rng.randrange(modulus)
        self.n = 0

    def next(self) -> int:
        """The next value, in ``[0, modulus)``; never repeats within ``modulus`` calls."""
        value = (self.a * self.n + self.b) % self.modulus
        self.n += 1
        return value


def _encode(value: int, alphabet: str, width: int) -> str:
    base = len(alphabet)
    chars = []
    for _ in range(width):
        value, digit = divmod(value, base)
        chars.append(alphabet[digit])
    return "".join(reversed(chars))


class NamePools:
    """Given and family names per language profile, drawn once from seeded Faker (and fixed lists).

    Sampling with ``rng`` from these pools is fast enough for a million people while
    keeping Faker's name frequencies.
    """

    def __init__(self, seed: int, rng: random.Random) -> None:
        self.rng = rng
        en = Faker("en_US")
        en.seed_instance(seed)
        es = Faker("es_MX")
        es.seed_instance(seed)
        self.pools: dict[str, tuple[list[str], list[str], list[str]]] = {
            "en": ([en.first_name_female() for _ in range(1500)], [en.first_name_male() for _ in range(1500)],
                   [en.last_name() for _ in range(3000)]),
            "es": ([es.first_name_female() for _ in range(500)], [es.first_name_male() for _ in range(500)],
                   [es.last_name() for _ in range(1000)]),
        }  # fmt: skip
        for key, (female, male, family) in catalog.OTHER_NAMES.items():
            self.pools[key] = (list(female), list(male), list(family))
        self.profiles = [p[0] for p in catalog.LANGUAGE_PROFILES]
        self.cumulative = list(accumulate(p[1] for p in catalog.LANGUAGE_PROFILES))
        self.language = {p[0]: (p[2], p[3]) for p in catalog.LANGUAGE_PROFILES}

    def profile(self) -> str:
        """A family's language profile key ("en", "es", "vi"…), weighted by :data:`catalog.LANGUAGE_PROFILES`."""
        return self.profiles[bisect.bisect(self.cumulative, self.rng.random() * self.cumulative[-1])]

    def given(self, profile: str, female: bool) -> str:
        """A given name for the language profile."""
        pool = self.pools[profile][0 if female else 1]
        return pool[self.rng.randrange(len(pool))]

    def family(self, profile: str) -> str:
        """A family name for the language profile."""
        pool = self.pools[profile][2]
        return pool[self.rng.randrange(len(pool))]


@dataclass
class SitePlan:
    """One site to create: ``kind`` is hs/ms/es/support; counts are exact."""

    kind: str
    name: str
    code: str
    site_kind: str
    grades: tuple[str, ...]
    students: int = 0
    staff: int = 0
    devices: int = 0
    site: Site | None = None


@dataclass
class _Tally:
    students: int = 0
    staff: int = 0
    open_assignments: int = 0
    statuses: Counter[str] = field(default_factory=Counter)


class _Generator:
    """One run of :func:`generate` (holds the random streams and counters)."""

    def __init__(self, scale: Scale, *, seed: int, now: datetime.datetime, progress: Callable[[str], None] | None,
                 use_copy: bool | None) -> None:  # fmt: skip
        self.scale = scale
        self.seed = seed
        self.now = now
        self.progress = progress or (lambda message: None)
        self.rng = random.Random(seed)
        self.tz = ZoneInfo(catalog.DISTRICT_TIME_ZONE)
        self.today = now.astimezone(self.tz).date()
        self.years = school_years(today=self.today, count=scale.history_years)
        self.current = self.years[-1]
        year_start = datetime.datetime(self.current.start_year, 8, 1, tzinfo=self.tz)
        self.current_start = year_start.astimezone(UTC)
        self.writer = BatchWriter(batch_size=scale.batch_size, use_copy=use_copy)
        self.tally = _Tally()
        self.started = time.perf_counter()
        self.written_at = timezone.now()
        # Counters that make identifiers unique across the district.
        self.student_number = self.rng.randint(10_000, 60_000)
        self.state_ids = AffineCounter(self.rng, 10**9)
        self.tag_numbers: dict[str, int] = {}
        self.serials: dict[str, AffineCounter] = {}
        self.macs: dict[str, AffineCounter] = {}
        self.purchase_orders: dict[tuple[int, str], str] = {}
        self.staff_emails: set[str] = set()

    # -- orchestration ------------------------------------------------------------------------

    def run(self) -> DemoSummary:
        """Write everything (inside the caller's transaction) and count it."""
        immediate = connection.vendor == "postgresql"
        if immediate:
            # Check foreign keys per COPY statement instead of queueing millions of checks until commit.
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        try:
            return self._run()
        finally:
            self.writer.close()
            if immediate:
                with connection.cursor() as cursor:
                    cursor.execute("SET CONSTRAINTS ALL DEFERRED")

    def _run(self) -> DemoSummary:
        self.progress(
            f"Seeding the {self.scale.name} demo district (seed {self.seed}, up to {self.now:%Y-%m-%d %H:%M} UTC)"
        )
        district_update(
            actor=None,
            name=catalog.DISTRICT_NAME,
            time_zone=catalog.DISTRICT_TIME_ZONE,
            ownership_mode=District.OwnershipMode.CENTRALIZED,
            fee_collector=District.FeeCollector.DISTRICT,
            school_year_start_month=8,
            school_year_start_day=1,
        )
        self.names = NamePools(self.seed, self.rng)
        self.models = self._catalog()
        plans = self._plan_sites()
        for number, plan in enumerate(plans, start=1):
            plan.site = site_create(
                code=plan.code,
                name=plan.name,
                kind=plan.site_kind,
                grades=",".join(plan.grades),
                state_id=f"1740080{number:05d}",
                sourced_id=stable_id(f"{self.seed}:site:{plan.code}"),
            )
        first = plans[0].site
        assert first is not None
        logins, users = self._logins(first)
        self.import_actor = users["district-tech"]
        self._register_tables()
        self.location_ids = IdBlock(Location)
        self.person_ids = IdBlock(Person)
        self.device_ids = IdBlock(Device)
        last_report = 0.0
        for index, plan in enumerate(plans):
            actor = users["site-tech"] if index == 0 else users["district-tech"]
            self._site(plan, actor)
            elapsed = time.perf_counter() - self.started
            if index in (0, len(plans) - 1) or elapsed - last_report >= 5 or len(plans) <= 60:
                last_report = elapsed
                self.progress(
                    f"[{index + 1}/{len(plans)}] {plan.code}: {plan.students:,} students, {plan.devices:,} devices; "
                    f"{self.writer.pending(DeviceEvent):,} "
                    f"events so far ({elapsed:.1f} s)"
                )
        self.writer.finish()
        counts = self.writer.counts
        return DemoSummary(
            scale=self.scale.name,
            seed=self.seed,
            now=self.now,
            sites=len(plans),
            locations=counts["sites.location"],
            students=self.tally.students,
            staff=self.tally.staff,
            guardians=counts["people.guardiancontact"],
            devices=counts["inventory.device"],
            devices_by_status=dict(sorted(self.tally.statuses.items())),
            assignments=counts["custody.assignment"],
            open_assignments=self.tally.open_assignments,
            events=counts["inventory.deviceevent"],
            logins=tuple(logins),
            seconds=round(time.perf_counter() - self.started, 2),
        )

    def _register_tables(self) -> None:
        self.writer.register(Location, LOCATION_COLUMNS)
        self.writer.register(Person, PERSON_COLUMNS)
        self.writer.register(GuardianContact, GUARDIAN_COLUMNS)
        self.writer.register(Device, DEVICE_COLUMNS)
        self.writer.register(Assignment, ASSIGNMENT_COLUMNS)
        self.writer.register(DeviceEvent, EVENT_COLUMNS)

    def _catalog(self) -> dict[str, tuple[int, int]]:
        """Manufacturers and device models (reused when present): model key → (model id, manufacturer id)."""
        makers = {name: Manufacturer.objects.get_or_create(name=name)[0] for name in catalog.MANUFACTURERS}
        models: dict[str, tuple[int, int]] = {}
        for spec in MODELS:
            row, _ = DeviceModel.objects.get_or_create(
                manufacturer=makers[spec.manufacturer],
                name=spec.name,
                model_number=spec.model_number,
                defaults={
                    "category": spec.category,
                    "replacement_cost": spec.replacement_cost,
                    "service_life_months": spec.service_life_months,
                    "auto_update_expiration": spec.aue,
                },
            )
            models[spec.key] = (row.pk, row.manufacturer_id)
        return models

    def _logins(self, first: Site) -> tuple[list[DemoLogin], dict[str, Actor]]:
        """The five demo logins (password ``demo``), hashed once and reused."""
        User = get_user_model()
        logins: list[DemoLogin] = []
        actors: dict[str, Actor] = {}
        for username, role, at_first_site, first_name, last_name in catalog.DEMO_LOGINS:
            site = first if at_first_site else None
            existing = User.objects.filter(username=username).first()
            user: AbstractUser
            if existing is None:
                # No password here: the demo hash is set below, so Argon2 runs once, not five times.
                user = staff_user_create(
                    username=username,
                    password=None,
                    roles=[(role, site)],
                    first_name=first_name,
                    last_name=last_name,
                    email=f"{username}@{catalog.STAFF_EMAIL_DOMAIN}",
                )
            else:
                user = existing
                staff_role_grant(user=user, role=role, site=site)
            user.password = demo_password_hash()
            user.save(update_fields=["password"])
            logins.append(DemoLogin(username, role, site.code if site else "district-wide"))
            actors[username] = Actor(user.pk, actor_label(user))
        return logins, actors

    # -- sites ------------------------------------------------------------------------------------

    def _plan_sites(self) -> list[SitePlan]:
        s = self.scale
        kinds = ["hs"] * s.high_schools + ["ms"] * s.middle_schools + ["es"] * s.elementary_schools
        namesakes = list(catalog.NAMESAKES)
        self.rng.shuffle(namesakes)
        extra = sorted({name for name in self.names.pools["en"][2] if name.isalpha()} - set(namesakes))
        self.rng.shuffle(extra)
        namesakes += extra
        used_names: set[str] = set()
        used_codes: set[str] = set()
        plans: list[SitePlan] = []
        # Each kind walks the namesakes from its own offset, so schools of different kinds differ.
        third = len(catalog.NAMESAKES) // 3
        cursor = {"hs": 0, "ms": third, "es": 2 * third}
        for kind in kinds:
            label = catalog.SCHOOL_KIND_LABEL[kind]
            while True:
                base = namesakes[cursor[kind] % len(namesakes)]
                round_ = cursor[kind] // len(namesakes)
                cursor[kind] += 1
                name = f"{base} {label}" + (f" {round_ + 1}" if round_ else "")
                if name not in used_names:
                    break
            used_names.add(name)
            letters = "".join(ch for ch in base.upper() if ch.isalpha())[:3]
            code = f"{letters}-{kind.upper()}"
            number = 2
            while code in used_codes:
                code = f"{letters}{number}-{kind.upper()}"
                number += 1
            used_codes.add(code)
            plans.append(SitePlan(kind, name, code, Site.Kind.SCHOOL, catalog.GRADES[kind]))
        for index in range(s.support_sites):
            if index < len(catalog.SUPPORT_SITES):
                name, suffix, site_kind = catalog.SUPPORT_SITES[index]
                code = f"MV-{suffix}"
            else:
                name, code, site_kind = f"Region {index - 1} Office", f"REG{index - 1}-DO", Site.Kind.DISTRICT_OFFICE
            plans.append(SitePlan("support", name, code, site_kind, ()))
        schools = [p for p in plans if p.kind != "support"]
        support = [p for p in plans if p.kind == "support"]
        sizes = [SCHOOL_SIZE[p.kind] * self.rng.uniform(0.75, 1.25) for p in schools]
        for plan, count in zip(schools, apportion(s.students, sizes), strict=True):
            plan.students = count
        support_staff = round(s.staff * SUPPORT_STAFF_SHARE) if support else 0
        for plan, count in zip(schools, apportion(s.staff - support_staff, [p.students for p in schools]),
                               strict=True):  # fmt: skip
            plan.staff = count
        for plan, count in zip(support, apportion(support_staff, [1.0] * len(support)), strict=True):
            plan.staff = count
        support_devices = round(s.devices * SUPPORT_DEVICE_SHARE) if support else 0
        weights = [p.students * DEVICE_WEIGHT[p.kind] + p.staff for p in schools]
        for plan, count in zip(schools, apportion(s.devices - support_devices, weights), strict=True):
            plan.devices = count
        for plan, count in zip(support, apportion(support_devices, [1.0] * len(support)), strict=True):
            plan.devices = count
        return plans

    def _site(self, plan: SitePlan, actor: Actor) -> None:
        """Everything at one site: locations, people, guardians, devices and their history."""
        site = plan.site
        assert site is not None
        locations = self._locations(plan, site)
        students = self._students(plan, site)
        staff = self._staff(plan, site)
        k2 = sum(1 for h in students if 0 <= h.grade <= 2)
        devices, reserve = self._devices(plan, site, k2_share=k2 / len(students) if students else 0.0)
        grades = (CEDS_INDEX[plan.grades[0]], CEDS_INDEX[plan.grades[-1]]) if plan.grades else None
        events: list[tuple[Any, ...]] = []
        history = SiteHistory(
            rng=self.rng,
            now=self.now,
            tz=self.tz,
            years=self.years,
            site=SiteContext(
                code=site.code, grades=grades, locations=locations, reserve=reserve, dense=self.scale.dense_history
            ),
            devices=devices,
            students=students,
            staff=staff,
            actor=actor,
            import_actor=self.import_actor,
            emit_event=events.append,
        )
        history.run()
        for dev in devices:
            (serial, maker_id, model_id, bought, cost, po, vendor, funding, warranty, mac, gid) = dev.static
            self.writer.add(Device, (
                dev.id, dev.tag, serial, maker_id, model_id, dev.status, site.pk, site.pk,
                dev.location[0] if dev.location else None, dev.primary.id if dev.primary else None, bought, cost,
                po, vendor, funding, warranty, mac, gid, "", self.written_at, self.written_at,
            ))  # fmt: skip
            self.tally.statuses[dev.status] += 1
        for asg in history.assignments:
            self.writer.add(Assignment, asg.row())
            if asg.in_at is None:
                self.tally.open_assignments += 1
        for row in events:
            self.writer.add(DeviceEvent, row)
        self.tally.students += len(students)
        self.tally.staff += len(staff)

    def _locations(self, plan: SitePlan, site: Site) -> dict[str, list[tuple[int, str]]]:
        """Rooms, carts and shelves: location role → [(id, "Name (CODE)")]."""
        rows: list[tuple[str, str, str]] = []
        if plan.kind == "support":
            for name, kind in catalog.SUPPORT_LOCATIONS:
                role = {"IT Office": "office", "Receiving": "", "Repair Bench": ""}.get(name, "shelf")
                rows.append((name, kind, role))
        else:
            roles = {"Main Office": "", "Library": "", "IT Workroom": "office", "Loaner Shelf": "loaner",
                     "Storage Shelf A": "shelf"}  # fmt: skip
            rows += [(name, kind, roles[name]) for name, kind in catalog.SCHOOL_LOCATIONS]
            carts = min(4, 1 + plan.students // 350)
            rows += [(f"Chromebook Cart {n}", "cart", "cart_chromebook") for n in range(1, carts + 1)]
            if plan.kind == "es":
                rows += [
                    (f"iPad Cart {n}", "cart", "cart_tablet") for n in range(1, min(3, 1 + plan.students // 300) + 1)
                ]
        places: dict[str, list[tuple[int, str]]] = {}
        for name, kind, role in rows:
            pk = self.location_ids.take()
            self.writer.add(Location, (pk, site.pk, name, kind, True))
            if role:
                places.setdefault(role, []).append((pk, f"{name} ({site.code})"))
        return places

    # -- people ----------------------------------------------------------------------------------

    def _leave_time(self) -> datetime.datetime | None:
        """A school-day time this year, after distribution and before today, when someone left."""
        year = self.current
        last = min(year.collection[0], self.today) - datetime.timedelta(days=1)
        days = weekdays(year.distribution[-1] + datetime.timedelta(days=1), last)
        if not days:
            return None
        day = self.rng.choice(days)
        minute = self.rng.randrange(8 * 60, 15 * 60)
        local = datetime.datetime(day.year, day.month, day.day, minute // 60, minute % 60, tzinfo=self.tz)
        return min(local.astimezone(UTC), self.now)

    def _students(self, plan: SitePlan, site: Site) -> list[Holder]:
        rng = self.rng
        graduated = round(plan.students * GRADUATED_SHARE_OF_HS) if plan.kind == "hs" else 0
        grade_weights = [rng.uniform(0.9, 1.1) * (0.93 if g == "12" else 1.0) for g in plan.grades]
        per_grade = apportion(plan.students - graduated, grade_weights)
        end_year = self.current.start_year + 1
        holders: list[Holder] = []
        entries = [(g, n) for g, n in zip(plan.grades, per_grade, strict=True)] + [("12*", graduated)]
        for grade_code, count in entries:
            if not count:
                continue
            is_graduate = grade_code == "12*"
            grade = "12" if is_graduate else grade_code
            index = 13 if is_graduate else CEDS_INDEX[grade]
            rooms = max(1, count // 24)
            for _ in range(count):
                roll = rng.random()
                if is_graduate:
                    status = Person.Status.GRADUATED.value
                elif roll < WITHDRAWN_RATE:
                    status = Person.Status.WITHDRAWN.value
                elif roll < WITHDRAWN_RATE + INACTIVE_RATE:
                    status = Person.Status.INACTIVE.value
                elif roll < WITHDRAWN_RATE + INACTIVE_RATE + TRANSFERRED_RATE:
                    status = Person.Status.TRANSFERRED.value
                else:
                    status = Person.Status.ACTIVE.value
                leaves_at = self._leave_time() if status in ("withdrawn", "inactive") else None
                if status == "graduated" or (status in ("withdrawn", "inactive") and leaves_at is None):
                    active_until: datetime.datetime | None = self.current_start
                else:
                    active_until = leaves_at
                profile = self.names.profile()
                female = rng.random() < 0.49
                given = self.names.given(profile, female)
                family = self.names.family(profile)
                preferred = catalog.NICKNAMES.get(given, "") if rng.random() < 0.3 else ""
                self.student_number += rng.randint(1, 4)
                number = f"{self.student_number:07d}"
                fee = rng.random() < FEE_REDUCTION_RATE
                if plan.kind == "es":
                    homeroom = f"Room {100 + (index * 4) + rng.randrange(rooms) + 1}"
                else:
                    homeroom = f"Advisory {200 + rng.randrange(max(1, plan.students // 25)) + 1}"
                pk = self.person_ids.take()
                self.writer.add(Person, (
                    pk, Person.Role.STUDENT.value, stable_id(f"{self.seed}:student:{number}"),
                    number, f"{self.state_ids.next():09d}", given, family, preferred,
                    f"{ascii_slug(given)}.{ascii_slug(family)}{number[-3:]}@{catalog.STUDENT_EMAIL_DOMAIN}",
                    grade, end_year + (12 - min(index, 12)) - (1 if is_graduate else 0), site.pk, homeroom, status,
                    fee, self.written_at, self.written_at, search_key(family), search_key(given), search_key(preferred),
                ))  # fmt: skip
                self._guardians(pk, number, profile, family)
                label = f"{preferred or given} {family} #{number}"
                holders.append(Holder(id=pk, label=label, grade=index, fee=fee, active_until=active_until,
                                      leaves_at=leaves_at))  # fmt: skip
        return holders

    def _guardians(self, person_id: int, number: str, profile: str, family: str) -> None:
        rng = self.rng
        language, share = self.names.language[profile]
        preferred_language = language if rng.random() < share else "English"
        count = 2 if rng.random() < 0.55 else 1
        for k in range(count):
            table = FIRST_GUARDIAN if k == 0 else SECOND_GUARDIAN
            relationship = pick(rng, table)
            female = relationship in ("mother", "grandmother", "aunt") or (
                relationship == "guardian" and rng.random() < 0.6
            )
            given = self.names.given(profile, female)
            surname = family if rng.random() < 0.8 else self.names.family(profile)
            email = ""
            if rng.random() < 0.85:
                domain = rng.choice(catalog.GUARDIAN_EMAIL_DOMAINS)
                email = f"{ascii_slug(given)}.{ascii_slug(surname)}{rng.randint(1, 99)}@{domain}"
            phone = f"({rng.choice(catalog.AREA_CODES)}) 555-01{rng.randrange(100):02d}"
            self.writer.add(GuardianContact, (
                person_id, stable_id(f"{self.seed}:guardian:{number}:{k}"),
                f"{given} {surname}", relationship, email, phone, preferred_language,
            ))  # fmt: skip

    def _staff(self, plan: SitePlan, site: Site) -> list[Holder]:
        rng = self.rng
        holders: list[Holder] = []
        for _ in range(plan.staff):
            profile = "es" if rng.random() < 0.12 else "en"
            given = self.names.given(profile, rng.random() < 0.72)
            family = self.names.family(profile)
            local = f"{ascii_slug(given)[:1]}{ascii_slug(family)}"
            email, n = f"{local}@{catalog.STAFF_EMAIL_DOMAIN}", 1
            while email in self.staff_emails:
                n += 1
                email = f"{local}{n}@{catalog.STAFF_EMAIL_DOMAIN}"
            self.staff_emails.add(email)
            leaves_at = self._leave_time() if rng.random() < STAFF_INACTIVE_RATE else None
            status = Person.Status.INACTIVE.value if leaves_at else Person.Status.ACTIVE.value
            pk = self.person_ids.take()
            self.writer.add(Person, (
                pk, Person.Role.STAFF.value, stable_id(f"{self.seed}:staff:{email}"),
                "", "", given, family, "", email, "", None, site.pk, "", status, False, self.written_at,
                self.written_at, search_key(family), search_key(given), "",
            ))  # fmt: skip
            holders.append(Holder(id=pk, label=f"{given} {family}", grade=-1, fee=False, active_until=leaves_at,
                                  leaves_at=leaves_at))  # fmt: skip
        return holders

    # -- devices -----------------------------------------------------------------------------------

    def _compose(self, plan: SitePlan, k2_share: float) -> list[tuple[str, bool, str]]:
        """The site's devices as (category, loaner?, bundled accessory category or "")."""
        n, students = plan.devices, plan.students
        items: list[tuple[str, bool, str]] = []
        if plan.kind == "support":
            laptops = min(round(0.9 * plan.staff), n // 3)
            hotspots = round(0.1 * n)
            chargers = round(0.15 * n)
            tablets = round(0.1 * n)
            chromebooks = max(0, n - laptops - hotspots - chargers - tablets)
            items += [("laptop", False, "")] * laptops + [("hotspot", False, "")] * hotspots
            items += [("charger", False, "")] * chargers + [("tablet", False, "")] * tablets
            items += [("chromebook", False, "")] * chromebooks
            return items[:n]
        laptops = min(round(0.85 * plan.staff), n // 6)
        hotspots = min(round(students * (0.012 if plan.kind == "es" else 0.03)), n // 20)
        loaners = min(max(2, round(0.03 * students)), n // 10) if students else 0
        rest = n - laptops - hotspots - loaners
        primaries = int(rest / (1 + 0.5 * (1 - k2_share) + 0.6 * k2_share))
        tablets = round(primaries * k2_share)
        chromebooks = primaries - tablets
        chargers = round(0.5 * chromebooks)
        cases = round(0.6 * tablets)
        chromebooks += rest - primaries - chargers - cases
        loaner_tablets = round(loaners * k2_share)
        items += [("laptop", False, "")] * laptops + [("hotspot", False, "")] * hotspots
        items += [("tablet", True, "")] * loaner_tablets + [("chromebook", True, "")] * (loaners - loaner_tablets)
        items += [("chromebook", False, "charger")] * chargers + [("chromebook", False, "")] * (chromebooks - chargers)
        items += [("tablet", False, "case")] * cases + [("tablet", False, "")] * (tablets - cases)
        return items

    def _devices(self, plan: SitePlan, site: Site, *, k2_share: float) -> tuple[list[Dev], dict[str, int]]:
        rng = self.rng
        items = self._compose(plan, k2_share)
        rng.shuffle(items)
        cohorts = len(self.years)
        cohort_weights = [max(0.5, 1 - 0.1 * (cohorts - 1))] + [0.1] * (cohorts - 1)
        devices: list[Dev] = []
        counts: Counter[str] = Counter()
        for category, loaner, accessory in items:
            refreshable = category in ("chromebook", "tablet") and not loaner
            cohort = rng.choices(range(cohorts), weights=cohort_weights)[0] if refreshable and cohorts > 1 else 0
            bought = self._purchase_date(cohort)
            spec = self._pick_model(category, bought.year)
            funding = self._funding(spec, bought.year)
            primary = self._device(spec, cohort, loaner, bought, funding)
            devices.append(primary)
            if not loaner:
                counts[category] += 1
            if accessory:
                key = spec.charger if accessory == "charger" else spec.case
                extra = self._device(MODELS_BY_KEY[key], cohort, False, bought, funding)
                extra.primary = primary
                devices.append(extra)
        reserve = {category: max(1, round(0.03 * count)) for category, count in counts.items()}
        return devices, reserve

    def _purchase_date(self, cohort: int) -> datetime.date:
        rng = self.rng
        if cohort == 0:
            back = pick(rng, YEARS_BACK)
            year = self.years[0].start_year - back
            return datetime.date(year, rng.randint(5, 8), rng.randint(1, 28))
        arrival = self.years[cohort].arrival
        return arrival - datetime.timedelta(days=rng.randint(20, 50))

    def _pick_model(self, category: str, year: int) -> ModelSpec:
        specs = [m for m in MODELS if m.category == category]
        current = [m for m in specs if m.sold[0] <= year <= m.sold[1]]
        if not current:
            current = [min(specs, key=lambda m: min(abs(year - m.sold[0]), abs(year - m.sold[1])))]
        return self.rng.choices(current, weights=[m.weight or 1.0 for m in current])[0]

    def _device(self, spec: ModelSpec, cohort: int, loaner: bool, bought: datetime.date, funding: str) -> Dev:
        rng = self.rng
        number = self.tag_numbers.get(spec.prefix)
        if number is None:
            number = rng.randint(1000, 9000)
        self.tag_numbers[spec.prefix] = number + 1
        tag = f"{spec.prefix}-{number:06d}"
        fmt, oui = catalog.MANUFACTURERS[spec.manufacturer]
        serial = ""
        if spec.serialized:
            counter = self.serials.get(spec.manufacturer)
            if counter is None:
                counter = self.serials[spec.manufacturer] = AffineCounter(rng, len(fmt.alphabet) ** fmt.width)
            serial = fmt.prefix + _encode(counter.next(), fmt.alphabet, fmt.width)
        mac = ""
        if oui and spec.category in ("chromebook", "tablet", "laptop", "hotspot"):
            macs = self.macs.get(spec.manufacturer)
            if macs is None:
                macs = self.macs[spec.manufacturer] = AffineCounter(rng, 2**24)
            low = macs.next()
            mac = f"{oui}:{low >> 16:02X}:{(low >> 8) & 0xFF:02X}:{low & 0xFF:02X}"
        gid = stable_id(f"{self.seed}:google:{tag}") if spec.category == "chromebook" else ""
        po_key = (bought.year, spec.key)
        po = self.purchase_orders.get(po_key)
        if po is None:
            po = self.purchase_orders[po_key] = f"PO-{bought.year}-{len(self.purchase_orders) + 101:05d}"
        warranty = _add_months(bought, spec.warranty_months) if spec.warranty_months else None
        model_id, maker_id = self.models[spec.key]
        static = (serial, maker_id, model_id, bought, spec.price, po, spec.vendor, funding, warranty, mac, gid)
        return Dev(id=self.device_ids.take(), tag=tag, spec=spec, cohort=cohort, loaner=loaner, purchase_date=bought,
                   static=static)  # fmt: skip

    def _funding(self, spec: ModelSpec, year: int) -> str:
        rng = self.rng
        F = Device.FundingSource
        if spec.category == "hotspot":
            return F.ERATE.value
        if spec.category == "laptop":
            return F.GENERAL_FUND.value
        if spec.category == "tablet":
            return F.GRANT.value if rng.random() < 0.3 else F.GENERAL_FUND.value
        if 2020 <= year <= 2023:
            return pick(rng, PANDEMIC_FUNDING)
        return pick(rng, REGULAR_FUNDING)


def _add_months(day: datetime.date, months: int) -> datetime.date:
    month = day.month - 1 + months
    return datetime.date(day.year + month // 12, month % 12 + 1, min(day.day, 28))
