"""Per-student numbers in the student's own kernel, from the kit's table of them.

    numbers = my_numbers(STUDENT_ID, "a03_recurrent", "elman_hand")   # in the notebook: prints and returns them

The instructor's grader draws each student's numbers from a keyed hash and a number maker that, for some
assignments, checks a draw against the answers (a03 keeps a draw only when every named mistake changes an answer
visibly). That maker cannot ship without shipping the answers, so a kit carries the numbers themselves, never how
to answer them: `numbers.json` holds the self-learners' numbers and those of every id on the class roster the kit
was built with (`grader release --roster FILE`). The public checks of a hand computation have recorded expected
values for the self-learners' numbers only; with an enrolled student's own numbers they are checked when graded.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

SELF_LEARNER = "self-learner"  # the id whose hand computations the kit's public checks can verify
KITS = Path(__file__).parent / "assignments"


class NumbersNotInKit(LookupError):
    """This kit has no numbers for that student id."""


FOLDERS: dict[str, Path] = {}  # assignment -> kit data folder, when it is not the installed one (the build's)


def use_kit_folder(assignment: str, folder: Path) -> None:
    """Read `assignment`'s numbers from `folder` (the kit being built or tested) instead of the installed kit."""
    FOLDERS[assignment] = Path(folder)
    _table.cache_clear()


@lru_cache(maxsize=None)
def _table(assignment: str) -> dict[str, dict[str, dict[str, Any]]]:
    path = FOLDERS.get(assignment, KITS / assignment) / "numbers.json"
    if not path.is_file():
        raise NumbersNotInKit(f"the kit of {assignment} has no per-student numbers (no {path.name})")
    return json.loads(path.read_text(encoding="utf-8"))["students"]


def variant_numbers(assignment: str, task: str, student: str) -> dict[str, Any]:
    """The numbers of `task` for `student`, as the grader draws them (plain floats, ints and lists)."""
    table = _table(assignment)
    numbers = table.get(str(student).strip())
    if numbers is None:
        raise NumbersNotInKit(
            f"this kit has no numbers for student id {student!r} (it has those of {', '.join(sorted(table))}); "
            f"use the kit your instructor built for your class, or STUDENT_ID = {SELF_LEARNER!r} to practise")
    if task not in numbers:
        raise NumbersNotInKit(f"{assignment} has no per-student numbers for {task!r} (known: {', '.join(sorted(numbers))})")
    return numbers[task]


def format_numbers(numbers: dict[str, Any]) -> str:
    width = max((len(k) for k in numbers), default=0)
    return "\n".join(f"  {k:<{width}} = {v}" for k, v in numbers.items())


def my_numbers(student_id: str, assignment: str, task: str) -> dict[str, Any]:
    """In the notebook: print and return your numbers for `task` (set STUDENT_ID to your id first)."""
    if not isinstance(student_id, str) or not student_id.strip():
        raise ValueError("set STUDENT_ID to your student id (a self-learner may keep \"self-learner\") and run this cell again")
    try:
        numbers = variant_numbers(assignment, task, student_id)
    except NumbersNotInKit as exc:
        raise ValueError(str(exc)) from None
    print(f"Your numbers for {task} (student id {student_id.strip()!r}):\n{format_numbers(numbers)}")
    if student_id.strip() == SELF_LEARNER:
        print("(These are the self-learners' numbers; enrolled students: put your own id in STUDENT_ID.)")
    return numbers
