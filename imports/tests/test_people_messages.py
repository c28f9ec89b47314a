"""The people block of the message catalogue: each message's SQL form (``sql_say``, used by the
set-based OneRoster path) gives the words ``say`` gives (SQLite and PostgreSQL)."""

from __future__ import annotations

import string

import pytest
from django.db import connection

from imports.messages import TEXT, Msg, say, sql_say

pytestmark = pytest.mark.django_db

PEOPLE = [
    Msg.ROSTER_BAD_STATUS, Msg.ROSTER_NO_ROLE, Msg.ROSTER_BAD_ROLE, Msg.ROW_KEY_EMPTY, Msg.ROSTER_BULK_EMPTY,
    Msg.ROSTER_BAD_DATES, Msg.GUARDIAN_NO_NAME, Msg.GUARDIAN_PHONE_LONG,
]  # fmt: skip
VALUES = {
    "roles": "student, teacher",
    "name": "sourcedId",
    "file": "users.csv",
    "n": 3,
    "line": 7,
    "raw": "it's",
    "max": 40,
}


@pytest.mark.parametrize("code", PEOPLE)
def test_sql_say_gives_the_words_of_say(code):
    names = [name for _, name, _, _ in string.Formatter().parse(TEXT[code]) if name]
    fields = {name: VALUES[name] for name in names}
    expressions = {name: "%(" + name + ")s" for name in names}
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {sql_say(code, **expressions)}", fields or None)
        assert cursor.fetchone()[0] == say(code, **fields)


def test_sql_say_needs_every_field():
    with pytest.raises(KeyError):
        sql_say(Msg.ROSTER_BAD_ROLE)
