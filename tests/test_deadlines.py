"""Is lateness measured from the right time, and does each late policy take what it says?"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from grader import autograde as ag
from grader.course import load_course
from grader.deadlines import (
    DAY_SECONDS,
    Deadline,
    DeadlineError,
    LatePolicy,
    deadline_of,
    lateness,
    parse_policy,
    parse_time,
)
from grader.gradebook import Gradebook

ROOT = Path(__file__).resolve().parent.parent
COURSE = load_course(ROOT / "course.yaml")
A = COURSE.assignments[0].id  # any assignment: these tests place its release as each student's notebook
DUE = parse_time("2026-11-20T23:59:00+01:00")


@pytest.mark.parametrize(("late_by", "policy", "days", "penalty"), [
    (-60, {"per_day": 10}, 0, 0.0),             # on time
    (0, {"per_day": 10}, 0, 0.0),               # exactly at the due time is on time
    (1, {"per_day": 10}, 1, 0.10),              # a second late is a started day
    (DAY_SECONDS, {"per_day": 10}, 1, 0.10),
    (DAY_SECONDS + 1, {"per_day": 10}, 2, 0.20),
    (20 * DAY_SECONDS, {"per_day": 10}, 20, 1.0),   # never below zero
    (3 * DAY_SECONDS, {"per_day": 10, "max_days": 3}, 3, 0.30),
    (3 * DAY_SECONDS + 1, {"per_day": 10, "max_days": 3}, 4, 1.0),
    (1, "cutoff", 1, 1.0),
    (-1, "cutoff", 0, 0.0),
    (5 * DAY_SECONDS, "none", 5, 0.0),          # recorded, not punished
])
def test_each_policy_takes_what_it_says(late_by, policy, days, penalty):
    late = lateness(Deadline(DUE, parse_policy(policy)), DUE + late_by, time_source="test")
    assert (late.days_late, late.penalty) == (days, pytest.approx(penalty))
    assert late.apply(5.0) == pytest.approx(5.0 * (1 - penalty))


def test_a_platform_late_marker_counts_one_day_when_the_time_looks_on_time():
    late = lateness(Deadline(DUE, parse_policy({"per_day": 25})), DUE - 3600, marked_late=True)
    assert (late.days_late, late.penalty) == (1, 0.25)


def test_no_recorded_time_is_never_punished():
    late = lateness(Deadline(DUE, LatePolicy(kind="cutoff")), None)
    assert (late.days_late, late.penalty) == (0, 0.0) and late.time_source == "no time recorded"


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-11-20T22:59:00Z", DUE),
    ("2026-11-20 22:59:00 UTC", DUE),                       # nbgrader's timestamp.txt
    ("2026-11-20 22:59:00.000000 UTC", DUE),
    ("2026-11-20T23:59:00+01:00", DUE),
])
def test_times_are_read_with_their_zone(text, expected):
    assert parse_time(text) == expected


@pytest.mark.parametrize(("text", "message"), [
    ("2026-11-20 23:59", "no UTC offset"),
    ("next friday", "not a time"),
])
def test_an_unreadable_or_zoneless_time_is_refused_with_the_form_to_use(text, message):
    with pytest.raises(DeadlineError, match=message):
        parse_time(text)


@pytest.mark.parametrize(("value", "message"), [
    ("weekly", "not one of"),
    ({"per_day": 0}, r"in \(0, 100\]"),
    ({"per_day": 150}, r"in \(0, 100\]"),
    ({"per_day": "ten"}, "must be a number"),
    ({"per_day": 10, "grace": 1}, "not one of"),
])
def test_a_bad_late_policy_names_the_accepted_forms(value, message):
    with pytest.raises(DeadlineError, match=message):
        parse_policy(value)


def test_the_command_line_form_of_a_policy_reads_like_the_yaml_one():
    assert parse_policy("per_day:10,max_days:3") == parse_policy({"per_day": 10, "max_days": 3})


@dataclass(frozen=True)
class AssignmentWithDue:
    """course.yaml's assignment with the two keys a course may add (read with getattr until course.py has them)."""

    due: str | None = None
    late_policy: object = None


def test_the_deadline_comes_from_the_assignment_and_the_command_line_wins():
    assert deadline_of(AssignmentWithDue()) is None  # an assignment without a due date has no deadline
    assigned = AssignmentWithDue(due="2026-11-20T23:59:00+01:00", late_policy="cutoff")
    assert deadline_of(assigned) == Deadline(DUE, LatePolicy(kind="cutoff"))
    assert deadline_of(assigned, due="2026-11-20T22:59:00Z", policy={"per_day": 5}).policy.per_day == 5


def test_nbgrader_timestamp_is_read_and_a_missing_one_falls_back_to_the_stated_file_time(tmp_path):
    """autograde reads submitted/<student>/<assignment>/timestamp.txt as nbgrader writes it."""
    for student in ("alice", "bob"):
        folder = tmp_path / "submitted" / student / A
        folder.mkdir(parents=True)
        (folder / f"{A}.ipynb").write_bytes((ROOT / "assignments" / A / f"{A}.ipynb").read_bytes())
    (tmp_path / "submitted" / "alice" / A / "timestamp.txt").write_text("2026-11-21 09:00:00.5 UTC\n")
    os.utime(tmp_path / "submitted" / "bob" / A / f"{A}.ipynb", (DUE - 100, DUE - 100))
    found = {s.student: s for s in ag.find_submissions(tmp_path, COURSE, A)}
    assert found["alice"].submitted_at == parse_time("2026-11-21T09:00:00.5+00:00")
    assert found["alice"].time_source == "nbgrader timestamp.txt"
    assert found["bob"].submitted_at == DUE - 100 and found["bob"].time_source == ag.FILE_TIME

    with Gradebook(tmp_path / "gb.sqlite") as gb:
        ag.record_lateness(gb, COURSE, list(found.values()), {A: Deadline(DUE, parse_policy({"per_day": 10}))})
        rows = gb.lateness(A)
    assert (rows["alice"]["days_late"], rows["alice"]["penalty"]) == (1, 0.1)
    assert (rows["bob"]["days_late"], rows["bob"]["penalty"]) == (0, 0.0)
