"""imports.messages, the devices block: every code has its words, and the words take the
fields the callers give."""

from __future__ import annotations

import string

from imports.messages import TEXT, Msg, say


def test_every_device_code_is_worded():
    codes = [code for code in Msg if code.value.startswith("device_")]
    assert codes
    assert all(code in TEXT for code in codes)


def test_device_messages_name_their_fields():
    for code in (c for c in Msg if c.value.startswith("device_")):
        names = {name for _text, name, _spec, _conv in string.Formatter().parse(TEXT[code]) if name}
        assert say(code, **dict.fromkeys(names, "X")).count("{") == 0
    assert say(Msg.DEVICE_NOT_TRANSFERRED_RETIRED, tag="C-1") == "device C-1 is retired; it is not transferred"
