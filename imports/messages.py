"""The one catalogue of import messages: each message a code and its words, worded once.

Rows' and files' issues are said through :func:`say` with a :class:`Msg` code, on the
row-by-row paths and (as SQL text built by :func:`sql_say`) on the set-based paths, so the
two paths cannot word the same thing differently. Messages about a domain rule (a device
that may not be transferred, a tag already in use, a MAC address's form) are not here:
they are worded once by the rule in its owning app (``inventory.rules``, ``people.rules``)
and imports quote them.

Shape: ``Msg.SOME_CODE`` → ``TEXT[Msg.SOME_CODE]``, a ``str.format`` template whose named
fields are given to :func:`say`.
"""

from __future__ import annotations

from enum import StrEnum


class Msg(StrEnum):
    """Codes of the import messages (stable: tests and the issue CSV may refer to them)."""


#: Code → ``str.format`` template.
TEXT: dict[Msg, str] = {}


def say(code: Msg, /, **fields: object) -> str:
    """The words of ``code`` with ``fields`` filled in. Raises ``KeyError`` for a field the
    template names but ``fields`` lacks (a programming error, caught by the tests)."""
    return TEXT[code].format(**fields)
