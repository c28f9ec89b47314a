"""How every page writes money, counts and grades, and marks the current page in the navigation.

Loaded on every template (``TEMPLATES[0]["OPTIONS"]["builtins"]`` in ``config/settings.py``), so a
page writes ``{{ device.purchase_cost|money }}``, ``{{ n|count }}``, ``{{ person.grade|grade }}``,
``{{ site.grades|grades }}``, ``{{ run.file_name|filename }}`` and ``{% nav_link "device_list" "Devices" %}`` without a ``{% load %}``.
One filter per kind of value, so "1,234", "$1,234.50" and "Grade 9" read the same on every page.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django import template
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from core.choices import GRADE_CODES, GRADE_ORDER
from core.money import format_money

register = template.Library()

_GRADE_WORDS = dict(GRADE_CODES)
_EMPTY = "—"


@register.filter
def money(value: Any) -> str:
    """A dollar amount with thousands separators to the cent: ``Decimal("1234.5")`` →
    ``"$1,234.50"`` (:func:`core.money.format_money`); empty (``None``/``""``) → ``"—"``; a
    value that is not a number is shown as it is."""
    if value is None or value == "":
        return _EMPTY
    try:
        return format_money(Decimal(str(value)))
    except (InvalidOperation, ValueError):
        return str(value)


@register.filter
def count(value: Any) -> str:
    """A whole number with thousands separators: ``4178`` → ``"4,178"``; ``None`` → ``"—"``;
    anything else as it is."""
    if value is None or value == "":
        return _EMPTY
    try:
        return f"{int(value):,}"
    except (TypeError, ValueError):
        return str(value)


@register.filter
def grade(code: Any) -> str:
    """A CEDS grade code in words: ``"09"`` → ``"Grade 9"``, ``"KG"`` → ``"Kindergarten"``;
    empty → ``""``; an unknown code as it is (source: ``core.choices.GRADE_CODES``)."""
    text = "" if code is None else str(code).strip()
    return _GRADE_WORDS.get(text, text)


@register.filter
def grades(codes: Any) -> str:
    """A site's grades (CEDS codes separated by commas, ``Site.grades``) in words: a run of
    consecutive grades as a range (``"KG,01,02,03,04,05"`` → ``"Kindergarten–Grade 5"``,
    ``"09,10,11,12"`` → ``"Grades 9–12"``), separate runs joined by commas; empty → ``"—"``."""
    parts = [part.strip() for part in str(codes or "").split(",") if part.strip()]
    if not parts:
        return _EMPTY
    known = [p for p in parts if p in GRADE_ORDER]
    runs: list[list[str]] = []
    for code in sorted(set(known), key=GRADE_ORDER.__getitem__):
        if runs and GRADE_ORDER[code] == GRADE_ORDER[runs[-1][-1]] + 1:
            runs[-1].append(code)
        else:
            runs.append([code])
    words = []
    for run in runs:
        first, last = run[0], run[-1]
        if first == last:
            words.append(grade(first))
        elif first.isdigit() and last.isdigit():
            words.append(f"Grades {int(first)}–{int(last)}")
        else:
            words.append(f"{grade(first)}–{grade(last)}")
    words += [p for p in parts if p not in GRADE_ORDER]
    return ", ".join(words)


_FILE_NAME_BREAKS = re.compile(r"([_\-.\s/\\])")


@register.filter
def filename(name: Any) -> SafeString:
    """A file name that wraps only after its separators (``_ - . /`` and spaces), never in the
    middle of a word: ``roster_2024-25_final.csv`` may break as ``roster_`` / ``2024-25_final.csv``.
    Escaped; wrapped in ``<span class="filename">`` (the stylesheet turns off break-anywhere)."""
    parts = _FILE_NAME_BREAKS.split(str(name or ""))
    inner = format_html_join(
        "", "{}{}", ((part, mark_safe("<wbr>") if _FILE_NAME_BREAKS.fullmatch(part) else "") for part in parts)
    )
    return format_html('<span class="filename">{}</span>', inner)


@register.simple_tag(takes_context=True)
def nav_link(context: template.Context, url_name: str, label: str, also: str = "") -> SafeString:
    """A navigation link that says when it is the current page: ``aria-current="page"`` (and
    the ``current`` class) when the request's path is the link's path or below it (``/devices/``
    for ``/devices/12/edit/``; the dashboard ``/`` only itself). ``also`` names more path
    prefixes separated by spaces (``"/bulk/check-out/"``)."""
    try:
        href = reverse(url_name)
    except NoReverseMatch:
        return format_html("")
    request = context.get("request")
    path = getattr(request, "path", "") or ""
    prefixes = [href, *also.split()]
    current = any(path == p or (p != "/" and path.startswith(p)) for p in prefixes)
    if current:
        return format_html('<a href="{}" class="current" aria-current="page">{}</a>', href, label)
    return format_html('<a href="{}">{}</a>', href, label)
