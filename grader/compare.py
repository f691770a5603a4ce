"""Comparing a student's value with the reference, in the trusted process, with a message that teaches.

The comparison and its feedback live in `coursecheck/compare.py`, the student kit's checker, so that a kit's public
checks name exactly the mistakes the grader names; this module is the grader's name for it. The tolerances and why
they are what they are, `assert_close`'s order of checks and the named `Mistake`s are documented there.
"""
from __future__ import annotations

from coursecheck.compare import (  # noqa: F401  (re-exported: the graders import these from grader.compare)
    TOLERANCES,
    Mismatch,
    Mistake,
    assert_choice,
    assert_close,
    matches,
    tolerance,
    using_tolerances,
)
