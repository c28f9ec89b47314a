"""Grade codes shared by sites and people (CEDS, as used by OneRoster 1.1/1.2)."""

from __future__ import annotations

#: CEDS grade-level codes in school order (OneRoster ``grades`` field).
GRADE_CODES: list[tuple[str, str]] = [
    ("IT", "Infant/toddler"),
    ("PR", "Preschool"),
    ("PK", "Pre-kindergarten"),
    ("TK", "Transitional kindergarten"),
    ("KG", "Kindergarten"),
    *[(f"{n:02d}", f"Grade {n}") for n in range(1, 14)],
    ("PS", "Postsecondary"),
    ("UG", "Ungraded"),
    ("Other", "Other"),
]
GRADE_ORDER = {code: i for i, (code, _) in enumerate(GRADE_CODES)}


def normalize_grade(value: str) -> str:
    """Return the CEDS code for ``value`` ("1" → "01", "k"/"kg" → "KG", "" → "").

    Raises ValueError naming the expected codes when ``value`` is not a grade.
    Source: CEDS grade level codes as listed in OneRoster 1.1 §4.13.
    """
    raw = value.strip()
    if not raw:
        return ""
    upper = raw.upper()
    if upper in {"K", "KG", "KINDERGARTEN"}:
        return "KG"
    if upper.isdigit() and 1 <= int(upper) <= 13:
        return f"{int(upper):02d}"
    for code, _ in GRADE_CODES:
        if upper == code.upper():
            return code
    raise ValueError(f"expected a CEDS grade code (PK, KG, 01–12, …), got '{value}'")
