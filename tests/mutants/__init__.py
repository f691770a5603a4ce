"""The quality gate's data, one module per assignment (`tests/mutants/<id>.py`): wrong and other correct solutions.

    MUTANTS = [Mutant("softmax", "dim=dim, keepdim", "dim=0, keepdim", "a softmax over the wrong axis")]
    STYLES = [Style("numpy", {"softmax": "def softmax(x, dim=-1): ..."})]
    SHORTCUTS = [Shortcut("conv2d", {"conv2d": "def conv2d(x, w): return F.conv2d(x, w)"}, "torch.nn.functional.conv2d")]

tests/test_assignments.py grades each against the assignment's grader (see docs/authoring.md §3).
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Mutant:
    """The solution with `old` replaced by `new` in answer cell `cell`: it must lose points, with `feedback` said."""

    cell: str
    old: str
    new: str
    feedback: str
    # A correct but under-trained (or otherwise weak) submission: it must lose points with the measurement as its
    # feedback, and receive none of the mistakes the grader names for this cell (no "it looks like", no other
    # mutant's feedback), since nothing in it is a mistake.
    names_no_mistake: bool = False


@dataclass(frozen=True)
class Style:
    """Another correct solution: the answer cells named in `cells` replaced by other code; it must get full marks."""

    name: str
    cells: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Shortcut:
    """The library call a task's course.yaml rule forbids, used in the answer cells `cells` instead of the student's
    work: the task must get 0 with feedback naming `call` and the rule's reason (tests/test_shortcuts.py). Every
    `forbidden:` rule of course.yaml needs one."""

    task: str
    cells: dict[str, str]
    call: str
