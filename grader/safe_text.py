"""Text that came from student code, made safe to print to a terminal or write into a page.

Feedback, problems and printed output can carry what a student's code chose to put there. Terminal escape
sequences (ANSI CSI/OSC), other control characters and Unicode bidirectional overrides could redraw a terminal table
(a 0/6 shown as 6/6) or reorder what an instructor reads, so they are removed; newlines and tabs stay.
"""
from __future__ import annotations

import re

# ESC-introduced sequences: CSI (ESC [ ... final byte), OSC (ESC ] ... BEL or ESC \), and two-byte escapes.
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]?")
# C0 controls except tab and newline, DEL, C1 controls, and the bidi embedding/override/isolate characters.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")


def clean(text: str) -> str:
    """`text` without escape sequences and control characters (a carriage return becomes a newline)."""
    if not text:
        return text
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROLS.sub("", _ESCAPES.sub("", text))
