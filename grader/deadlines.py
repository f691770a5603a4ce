"""Due dates and late policies: how late a submission was, and what that costs.

An assignment may say (course.yaml, or `grader autograde --due ... --late-policy ...` for a course.yaml without them):

    due: "2026-11-20T23:59:00+01:00"      # ISO 8601 with its UTC offset: a due date without one is refused, since
                                          # the grading machine's zone is not the students' zone
    late_policy: none                     # lateness is recorded and shown, the score is not changed
    late_policy: cutoff                   # any late submission scores 0
    late_policy: {per_day: 10}            # 10 % of the score off per started day late (a minute late is one day)
    late_policy: {per_day: 10, max_days: 3}   # ... and 0 after the third day

A per-day penalty is a fraction of the score the submission earned (after overrides), as nbgrader and Canvas's
late policy apply it, so a late full-marks submission and a late half-marks one lose the same share.
A submission the platform itself marked late (Canvas's LATE marker) whose recorded time is not after the due date is
counted one day late: the platform saw a deadline we cannot see (an extension, another zone), and the time we have
is only the zip's.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

POLICY_KINDS = ("none", "per_day", "cutoff")
DAY_SECONDS = 86400.0


class DeadlineError(ValueError):
    """A due date or late policy cannot be read; the message names the value and the expected form."""


@dataclass(frozen=True)
class LatePolicy:
    kind: str = "none"  # none | per_day | cutoff
    per_day: float = 0.0  # percent of the score per started day late (per_day)
    max_days: int | None = None  # after this many days late the score is 0 (per_day)

    def describe(self) -> str:
        if self.kind == "per_day":
            cap = f", 0 after {self.max_days} day{'s' * (self.max_days != 1)}" if self.max_days is not None else ""
            return f"{self.per_day:g}% off per started day late{cap}"
        return {"none": "no penalty", "cutoff": "late submissions score 0"}[self.kind]


@dataclass(frozen=True)
class Deadline:
    due: float  # unix time
    policy: LatePolicy


@dataclass(frozen=True)
class Lateness:
    submitted_at: float | None
    time_source: str
    due: float
    seconds_late: float  # 0 when on time
    days_late: int  # started days: 1 second late is 1 day
    penalty: float  # fraction of the earned score taken off, 0..1
    policy: str  # the policy's description, as the student sees it

    @property
    def late(self) -> bool:
        return self.days_late > 0

    def apply(self, score: float) -> float:
        return score * (1.0 - self.penalty)


def parse_time(text: str) -> float:
    """An ISO 8601 time with its offset, or nbgrader's timestamp.txt ("2026-11-20 22:03:11.123456 UTC" or
    with an offset); unix time. Raises ValueError (DeadlineError) for anything else."""
    raw = text.strip()
    value = raw[:-4] + "+00:00" if raw.endswith(" UTC") else raw
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise DeadlineError(f"{raw!r} is not a time: write it as ISO 8601, e.g. 2026-11-20T23:59:00+01:00") from None
    if when.tzinfo is None:
        raise DeadlineError(f"{raw!r} has no UTC offset: add one (e.g. +01:00 or Z), the grading machine's zone is "
                            "not the class's")
    return when.timestamp()


def parse_policy(value: Any) -> LatePolicy:
    """`none`, `cutoff`, or a mapping {per_day: PERCENT, max_days: N} (see module doc)."""
    if value is None or value == "none":
        return LatePolicy()
    if value == "cutoff":
        return LatePolicy(kind="cutoff")
    if isinstance(value, str) and value.startswith("per_day:"):  # the command line's form, per_day:10[,max_days:3]
        value = dict(part.split(":", 1) for part in value.split(","))
    if isinstance(value, dict) and "per_day" in value and set(value) <= {"per_day", "max_days"}:
        try:
            per_day = float(value["per_day"])
            max_days = int(value["max_days"]) if value.get("max_days") is not None else None
        except (TypeError, ValueError):
            raise DeadlineError(f"late_policy {value!r}: per_day must be a number, max_days a whole number") from None
        if not 0 < per_day <= 100 or (max_days is not None and max_days < 0) or math.isnan(per_day):
            raise DeadlineError(f"late_policy {value!r}: per_day must be in (0, 100], max_days 0 or more")
        return LatePolicy(kind="per_day", per_day=per_day, max_days=max_days)
    raise DeadlineError(f"late_policy {value!r} is not one of: none, cutoff, {{per_day: PERCENT, max_days: N}}")


def deadline_of(assignment: Any, *, due: str | None = None, policy: Any = None) -> Deadline | None:
    """The assignment's deadline: the arguments given (command line) win over its `due`/`late_policy` keys."""
    due = due if due is not None else getattr(assignment, "due", None)
    if due is None:
        return None
    policy = policy if policy is not None else getattr(assignment, "late_policy", None)
    when = due.timestamp() if isinstance(due, datetime) and due.tzinfo else parse_time(str(due))
    return Deadline(due=when, policy=parse_policy(policy))


def lateness(deadline: Deadline, submitted_at: float | None, *, time_source: str = "",
             marked_late: bool = False) -> Lateness:
    """How late `submitted_at` is for `deadline`, and the fraction of the score the policy takes (module doc)."""
    if submitted_at is None:  # no time at all: never punish on a guess
        return Lateness(None, time_source or "no time recorded", deadline.due, 0.0, 0, 0.0, deadline.policy.describe())
    seconds = max(0.0, submitted_at - deadline.due)
    days = math.ceil(seconds / DAY_SECONDS)
    if marked_late and days == 0:
        days = 1
    policy = deadline.policy
    if days == 0 or policy.kind == "none":
        penalty = 0.0
    elif policy.kind == "cutoff" or (policy.max_days is not None and days > policy.max_days):
        penalty = 1.0
    else:
        penalty = min(1.0, days * policy.per_day / 100.0)
    return Lateness(submitted_at, time_source, deadline.due, seconds, days, penalty, policy.describe())


def format_time(unix: float) -> str:
    return datetime.fromtimestamp(unix, tz=timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
