"""List paging: keyset ("seek") pages, sort choices, page sizes and honest row counts.

* :func:`keyset_page` pages a queryset ordered by one or more columns and ``id``; the cursor
  carries the last row's values, so page 20,000 costs what page 1 costs. Cursors come from
  query strings: one that does not decode to values of the sort columns' types (wrong type,
  an id out of range, text with a NUL byte that PostgreSQL refuses, junk) is ignored — the
  list shows its first page, never an error. The check is here, once, for every list.
* :func:`read_sort` / :func:`sort_links`: a whitelisted ``sort`` parameter (``tag`` or
  ``-tag``); an unknown key gives the list's default order.
* :func:`read_page_size` / :func:`page_size_links`: the ``per_page`` choice (25, 50, 100, 200).
* :func:`count_rows`: how many rows a list holds, counted up to a cap; above it "more than
  100,000", or for a district-wide unfiltered list on PostgreSQL the planner's estimate
  ("about 1.2 million"), labelled as such.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from urllib.parse import urlencode

from django.db import connections
from django.db.models import Model, Q, QuerySet

_M = TypeVar("_M", bound=Model)

#: Largest id a cursor may carry (PostgreSQL ``bigint``).
_ID_MAX = 2**63 - 1
#: Longest text value a cursor may carry (sort columns are names, tags and numbers).
_TEXT_MAX = 1000
_TEXT_TYPES = {"CharField", "TextField", "EmailField", "SlugField", "URLField"}
_INT_TYPES = {
    "AutoField", "BigAutoField", "SmallAutoField", "IntegerField", "BigIntegerField", "SmallIntegerField",
    "PositiveIntegerField", "PositiveBigIntegerField", "PositiveSmallIntegerField", "ForeignKey",
}  # fmt: skip

#: Rows per page a user may choose; :data:`PAGE_SIZE_DEFAULT` when none (or another) is asked.
PAGE_SIZES = (25, 50, 100, 200)
PAGE_SIZE_DEFAULT = 50
#: Rows :func:`count_rows` counts exactly before it says "more than".
COUNT_CAP = 100_000


def _encode(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def _utf8(text: str) -> bool:
    """Whether ``text`` can be sent to a database (JSON's ``\\ud800`` gives a lone surrogate)."""
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def _value_fits(value: Any, internal_type: str) -> bool:
    """Whether ``value`` (decoded from JSON) is a value of a column of ``internal_type`` that
    every database accepts in a comparison."""
    if internal_type in _TEXT_TYPES:
        return isinstance(value, str) and "\x00" not in value and len(value) <= _TEXT_MAX and _utf8(value)
    if internal_type in _INT_TYPES:
        return isinstance(value, int) and not isinstance(value, bool) and -_ID_MAX - 1 <= value <= _ID_MAX
    if internal_type == "BooleanField":
        return isinstance(value, bool)
    return False  # other types are not sortable through a cursor


def _decode(cursor: str, types: Sequence[str]) -> list[Any] | None:
    """The values a cursor carries — one per sort column (``types``: their internal types) and
    the row's id — or ``None`` when it is not such a cursor."""
    if not cursor or len(cursor) > 4 * _TEXT_MAX:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError):
        return None
    if not isinstance(values, list) or len(values) != len(types) + 1:
        return None
    *keys, pk = values
    if not _value_fits(pk, "BigAutoField") or pk < 0:
        return None
    if not all(_value_fits(value, kind) for value, kind in zip(keys, types, strict=True)):
        return None
    return values


def _internal_type(queryset: QuerySet[Any], name: str) -> str:
    annotation = queryset.query.annotations.get(name)
    field = annotation.output_field if annotation is not None else queryset.model._meta.get_field(name)
    return str(field.get_internal_type())


def _seek(order: Sequence[str], values: Sequence[Any], pk: int, *, forward: bool) -> Q:
    """Rows after (``forward``) or before the row ``(values…, pk)`` in the order ``(order…, id)``.

    The first term (``k1 >= v1``) lets the database range-scan an index on the first column."""
    op, op_eq = ("gt", "gte") if forward else ("lt", "lte")
    columns = [*order, "id"]
    points = [*values, pk]
    after = Q()
    for i, column in enumerate(columns):
        term = Q(**{f"{c}": v for c, v in zip(columns[:i], points[:i], strict=True)}) & Q(
            **{f"{column}__{op}": points[i]}
        )
        after = term if i == 0 else after | term
    return Q(**{f"{columns[0]}__{op_eq}": points[0]}) & after


@dataclass
class KeysetPage(Generic[_M]):
    """One page: ``items``, and cursors for the next and previous pages (``None`` at an end)."""

    items: list[_M]
    next_cursor: str | None
    prev_cursor: str | None

    @property
    def has_other_pages(self) -> bool:
        return bool(self.next_cursor or self.prev_cursor)


def keyset_page(
    queryset: QuerySet[_M],
    *,
    sort_field: str = "",
    order: Sequence[str] = (),
    descending: bool = False,
    after: str = "",
    before: str = "",
    size: int = PAGE_SIZE_DEFAULT,
) -> KeysetPage[_M]:
    """Return the page of ``queryset`` after (or before) a cursor, ordered by ``(order…, id)``
    (or ``(sort_field, id)``), all ascending or all ``descending``.

    Each column of ``order`` is a non-null field of the model or an annotation of
    ``queryset`` (text, integer or boolean), e.g. ``("family_key", "given_key")``; ``size`` is
    rows per page (1–500). A cursor that does not fit those columns is ignored (first page).
    """
    columns = list(order) or [sort_field]
    size = max(1, min(size, 500))
    types = [_internal_type(queryset, c) for c in columns]
    after_values = _decode(after, types) if after else None
    before_values = _decode(before, types) if before and not after_values else None
    up = [f"-{c}" for c in [*columns, "id"]]
    down = [*columns, "id"]
    forward_order, backward_order = (up, down) if descending else (down, up)
    if before_values:
        *values, pk = before_values
        qs = queryset.filter(_seek(columns, values, pk, forward=descending))
        rows = list(qs.order_by(*backward_order)[: size + 1])
        items = list(reversed(rows[:size]))
        has_prev, has_next = len(rows) > size, True
    else:
        qs = queryset
        if after_values:
            *values, pk = after_values
            qs = qs.filter(_seek(columns, values, pk, forward=not descending))
        rows = list(qs.order_by(*forward_order)[: size + 1])
        items = rows[:size]
        has_next, has_prev = len(rows) > size, bool(after_values)
    if not items:
        return KeysetPage(items=[], next_cursor=None, prev_cursor=None)

    def cursor(row: Any) -> str:
        return _encode([*(getattr(row, c) for c in columns), row.pk])

    return KeysetPage(
        items=items,
        next_cursor=cursor(items[-1]) if has_next else None,
        prev_cursor=cursor(items[0]) if has_prev else None,
    )


# --------------------------------------------------------------------------- sort and page size


@dataclass(frozen=True)
class Sort:
    """A list's order as the user chose it: ``key`` (one of the list's whitelisted keys) and
    ``descending``. ``param`` is its query-string form (``tag``, ``-tag``)."""

    key: str
    descending: bool = False

    @property
    def param(self) -> str:
        return f"-{self.key}" if self.descending else self.key


@dataclass(frozen=True)
class SortLink:
    """A column header's link: ``url`` (a query string that sorts by the column, the other way
    round when it is the current sort) and ``state`` (``"ascending"``, ``"descending"`` or
    ``""``, for ``aria-sort`` and the arrow)."""

    url: str
    state: str

    @property
    def arrow(self) -> str:
        return {"ascending": "▲", "descending": "▼"}.get(self.state, "")


def read_sort(params: Mapping[str, Any] | None, keys: Sequence[str], default: str) -> Sort:
    """The ``sort`` parameter when it names one of ``keys`` (``-`` first: descending), else
    ``default`` (``-`` first: descending). Unknown keys are ignored, never an error."""
    raw = params.get("sort", "") if params else ""
    raw = raw if isinstance(raw, str) else ""
    descending = raw.startswith("-")
    key = raw[1:] if descending else raw
    return Sort(key, descending) if key in keys else Sort(default.lstrip("-"), default.startswith("-"))


def _query(params: Mapping[str, Any] | None, **changes: Any) -> str:
    """``params`` as a query string with ``changes`` (``None`` drops a key) and without any
    paging cursor (a new order or page size starts at the first page)."""
    items: dict[str, Any] = {}
    if params is not None:
        for key in params:
            if key not in ("after", "before"):
                items[key] = params.get(key)
    for key, value in changes.items():
        if value is None:
            items.pop(key, None)
        else:
            items[key] = value
    return "?" + urlencode({k: v for k, v in items.items() if isinstance(v, str | int)})


def sort_links(params: Mapping[str, Any] | None, keys: Sequence[str], current: Sort) -> dict[str, SortLink]:
    """For each sort key, the header link that sorts by it (keeping the filters and page size)."""
    links = {}
    for key in keys:
        if key == current.key:
            state = "descending" if current.descending else "ascending"
            target = key if current.descending else f"-{key}"
        else:
            state, target = "", key
        links[key] = SortLink(url=_query(params, sort=target), state=state)
    return links


def read_page_size(params: Mapping[str, Any] | None) -> int:
    """The ``per_page`` parameter when it is one of :data:`PAGE_SIZES`, else the default."""
    raw = params.get("per_page", "") if params else ""
    return int(raw) if isinstance(raw, str) and raw.isdigit() and int(raw) in PAGE_SIZES else PAGE_SIZE_DEFAULT


def page_size_links(params: Mapping[str, Any] | None, current: int) -> list[tuple[int, str, bool]]:
    """``(size, url, is_current)`` for each of :data:`PAGE_SIZES`."""
    return [(size, _query(params, per_page=str(size)), size == current) for size in PAGE_SIZES]


# --------------------------------------------------------------------------- counts


@dataclass(frozen=True)
class RowCount:
    """How many rows a list holds: ``value`` exactly when ``exact``; otherwise at least
    ``value`` (counting stopped at the cap) or, when ``estimated``, the database's estimate.
    ``text`` says which: "1,234", "more than 100,000", "about 1.2 million"."""

    value: int
    exact: bool = True
    estimated: bool = False

    @property
    def text(self) -> str:
        if self.exact:
            return f"{self.value:,}"
        if not self.estimated:
            return f"more than {self.value:,}"
        if self.value >= 1_000_000:
            return f"about {self.value / 1_000_000:.1f} million"
        return f"about {_two_digits(self.value):,}"

    @property
    def plural(self) -> bool:
        """Whether the noun after :attr:`text` is plural."""
        return not self.exact or self.value != 1


def _two_digits(value: int) -> int:
    """``value`` rounded to two significant digits (123,456 → 120,000)."""
    digits = len(str(value))
    step = 10 ** max(0, digits - 2)
    return round(value / step) * step


def count_rows(queryset: QuerySet[Any], *, cap: int = COUNT_CAP, estimate: bool = False) -> RowCount:
    """Count ``queryset``'s rows, stopping at ``cap`` (one bounded ``COUNT`` over the ids).

    Above the cap the count says "more than ``cap``", or with ``estimate`` (for a list that
    shows the whole table: no filter, a district-wide viewer) on PostgreSQL the planner's
    estimate of the table's rows (``pg_class.reltuples``, kept by ``ANALYZE``), labelled
    "about". A full ``COUNT(*)`` of a million rows costs a few hundred milliseconds on every
    page view; the cap keeps the page as fast as its rows."""
    counted = queryset.order_by().values("pk")[: cap + 1].count()
    if counted <= cap:
        return RowCount(counted)
    if estimate:
        connection = connections[queryset.db]
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass", [queryset.model._meta.db_table]
                )
                row = cursor.fetchone()
            if row and row[0] and row[0] > cap:
                return RowCount(int(row[0]), exact=False, estimated=True)
    return RowCount(cap, exact=False)


# --------------------------------------------------------------------------- one list page


@dataclass
class ListPage(Generic[_M]):
    """Everything a sortable, paged list shows around its rows (built by :func:`list_page`):
    ``page`` (the rows and cursors), ``count`` (:class:`RowCount`), ``sort`` (the order in
    force), ``sorts`` (a :class:`SortLink` per sortable column), ``sizes`` (the page-size
    choices, see :func:`page_size_links`), ``size``, and the pager's ``prev_url``/``next_url``
    (query strings keeping the filters, order and page size; ``""`` at an end)."""

    page: KeysetPage[_M]
    count: RowCount
    sort: Sort
    sorts: dict[str, SortLink]
    sizes: list[tuple[int, str, bool]]
    size: int
    prev_url: str
    next_url: str


def list_page(
    queryset: QuerySet[_M],
    params: Mapping[str, Any] | None,
    *,
    sorts: Mapping[str, Sequence[str]],
    default: str,
    estimate: bool = False,
    keep: Mapping[str, str] | None = None,
) -> ListPage[_M]:
    """One page of a list as the query string ``params`` asks: ``sort`` (one of ``sorts``:
    key → the columns of its order, see :func:`keyset_page`; anything else gives
    ``default``, which may start with ``-``), ``per_page`` (:data:`PAGE_SIZES`), ``after``/``before`` (cursors; one that
    does not fit the order is ignored), with the list's count (:func:`count_rows`;
    ``estimate``: the list shows the whole table). ``keep``: parameters the pager links set
    (e.g. ``exact=0``, so a device list's next page is not taken for a scan)."""
    sort = read_sort(params, list(sorts), default)
    size = read_page_size(params)
    after = params.get("after", "") if params else ""
    before = params.get("before", "") if params else ""
    page = keyset_page(
        queryset,
        order=sorts[sort.key],
        descending=sort.descending,
        after=after if isinstance(after, str) else "",
        before=before if isinstance(before, str) else "",
        size=size,
    )
    extra = dict(keep or {})
    return ListPage(
        page=page,
        count=count_rows(queryset, estimate=estimate),
        sort=sort,
        sorts=sort_links(params, list(sorts), sort),
        sizes=page_size_links(params, size),
        size=size,
        prev_url=_query(params, **extra, before=page.prev_cursor) if page.prev_cursor else "",
        next_url=_query(params, **extra, after=page.next_cursor) if page.next_cursor else "",
    )
