"""Per-student numbers: the same exercise with different numbers for every student, reproducible by anyone.

    numbers = my_numbers(STUDENT_ID, "a03_recurrent", "elman_hand")     # in the notebook: prints and returns them
    numbers = variant_numbers("a03_recurrent", "elman_hand", student_id)  # in the grader: the same dict

The numbers come from a keyed hash, HMAC-SHA256(course.yaml's `course.variant_key`, assignment / task / student id),
which seeds a numpy generator passed to the assignment's number maker in `grader/numbers/<assignment>.py`
(`NUMBERS = {task: fn(rng) -> dict}`). Neighbours get different numbers, so copying an answer does not help; the
grader recomputes the expected answer from the graded student's numbers with the reference implementation; a
self-learner can use any id. The key is public on purpose: these numbers are inputs for hand computations, not
secrets. The inputs of hidden tests are drawn from a separate, private secret (see `grader.plugin`).
"""
from __future__ import annotations

import hashlib
import hmac
import importlib
import json
from collections.abc import Callable
from typing import Any

import numpy as np

NumberMaker = Callable[[np.random.Generator], dict[str, Any]]


class VariantError(KeyError):
    """No number maker for that assignment and task."""

    def __str__(self) -> str:
        return str(self.args[0])


def variant_rng(assignment: str, task: str, student: str, key: str | None = None) -> np.random.Generator:
    """A generator seeded by HMAC(key, assignment/task/student): deterministic, different for each student."""
    if key is None:
        from grader.course import load_course

        key = load_course().variant_key
    message = f"{assignment}/{task}/{student.strip()}".encode()
    digest = hmac.new(key.encode(), message, hashlib.sha256).digest()
    return np.random.default_rng(int.from_bytes(digest[:16], "big"))


def makers(assignment: str) -> dict[str, NumberMaker]:
    try:
        module = importlib.import_module(f"grader.numbers.{assignment}")
    except ModuleNotFoundError:
        raise VariantError(f"assignment {assignment!r} has no per-student numbers (no grader/numbers/{assignment}.py)") from None
    return module.NUMBERS


def variant_numbers(assignment: str, task: str, student: str, key: str | None = None) -> dict[str, Any]:
    """The numbers of `task` for `student` (plain floats, ints and lists)."""
    table = makers(assignment)
    if task not in table:
        raise VariantError(f"{assignment} has no per-student numbers for {task!r} (known: {', '.join(sorted(table))})")
    numbers = table[task](variant_rng(assignment, task, student, key))
    return json.loads(json.dumps(numbers))  # plain data only: what the notebook prints is what the grader uses


def format_numbers(numbers: dict[str, Any]) -> str:
    width = max((len(k) for k in numbers), default=0)
    return "\n".join(f"  {k:<{width}} = {v}" for k, v in numbers.items())


def my_numbers(student_id: str, assignment: str, task: str) -> dict[str, Any]:
    """In the notebook: print and return your numbers for `task` (set STUDENT_ID to your id first)."""
    if not isinstance(student_id, str) or not student_id.strip():
        raise ValueError("set STUDENT_ID to your student id (a self-learner may use any text) and run this cell again")
    numbers = variant_numbers(assignment, task, student_id)
    print(f"Your numbers for {task} (student id {student_id.strip()!r}):\n{format_numbers(numbers)}")
    if student_id.strip() == "self-learner":
        print("(These are the self-learners' numbers; enrolled students: put your own id in STUDENT_ID.)")
    return numbers
