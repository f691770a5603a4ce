"""The quality gate of one assignment, run from the command line and read as a student would read it.

    grader preview ASSIGNMENT [--task T]                        # one secret, every verdict and its feedback
    grader preview ASSIGNMENT --secrets 20 --out sweep.json     # 20 secrets in parallel processes

The rules are those of tests/test_assignments.py (docs/authoring.md §3), applied to the course given (a temporary
copy works as well as the repository):

1. the solution notebook gets full marks, with no problem reported;
2. the release (the skeleton nbgrader builds) gets 0, every test with a verdict and none a grader error;
3. every literal `Mistake("...")` the grader names is the feedback of some mutant in tests/mutants/<id>.py;
4. each mutant (the solution with one known mistake) loses points, and a failing test's feedback names it;
5. each other correct style gets full marks.

`grader release` applies rules 1 and 2 to what it builds (`solution_verdict`, `release_verdict`). The release is
built into a temporary folder, mutants and styles are written there too: nothing is written into the course.
Every input is drawn from one secret (GATE_SECRET, default the gate's own), so a red verdict can be reproduced;
students get other inputs, which is what `--secrets N` tries: a tolerance or a named mistake that holds for one
secret in twenty fails real students.
"""
from __future__ import annotations

import ast
import hashlib
import importlib
import importlib.util
import json
import os
import secrets as secrets_module
import sys
import tempfile
import textwrap
import types
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import TYPE_CHECKING, Any

from grader.course import Assignment, Course, load_course

if TYPE_CHECKING:  # the engine, the sandbox and nbformat load when a gate runs, not with the command line's parser
    from grader.engine import GradeReport
    from grader.sandbox import Sandbox

GATE_SECRET = "quality-gate-1"  # tests/conftest.py's default: the gate and the preview draw the same inputs
GATE_STUDENT = "quality-gate"    # graded as this id unless the notebook declares a STUDENT_ID


def gate_secret() -> str:
    """The secret the gate grades under: GATE_SECRET from the environment ("random": a fresh one), else the gate's."""
    secret = os.environ.get("GATE_SECRET", GATE_SECRET)
    return secrets_module.token_hex(8) if secret == "random" else secret


@dataclass
class Verdict:
    """One gate rule applied to one subject ("solution", "release", "mutant 3", "style 'numpy'")."""

    subject: str
    rule: str
    ok: bool
    why: str = ""                      # what failed, naming the tests (empty when ok)
    report: GradeReport | None = None  # the grading the verdict was read from, if any
    detail: str = ""                   # what the subject is (a mutant's edit)

    def to_dict(self) -> dict[str, Any]:
        score = None if self.report is None else [self.report.score, self.report.max_score]
        return {"subject": self.subject, "rule": self.rule, "ok": self.ok, "why": self.why, "score": score}


@dataclass
class GateResult:
    assignment: str
    secret: str
    verdicts: list[Verdict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(v.ok for v in self.verdicts)


# ----------------------------------------------------------------------------------------------------- the rules
def _failing(report: GradeReport) -> str:
    return "; ".join(f"{t.name} {t.status}" + (f" ({t.feedback[:160]})" if t.feedback else "")
                     for t in report.tests if t.status != "passed")


def solution_verdict(report: GradeReport, points: float) -> Verdict:
    """Rule 1: full marks (`points`, course.yaml's), no problem, no grader error."""
    rule = "the solution gets full marks"
    if not report.tests:
        return Verdict("solution", rule, False, "the grader ran no test", report)
    if report.score != report.max_score or report.max_score != points:
        why = f"{report.score:g}/{report.max_score:g} (course.yaml: {points:g}): {_failing(report)}"
        return Verdict("solution", rule, False, why, report)
    if report.problems:
        return Verdict("solution", rule, False, "problems: " + "; ".join(report.problems), report)
    return Verdict("solution", rule, True, "", report)


def release_verdict(report: GradeReport, solution_tests: int) -> Verdict:
    """Rule 2: 0 points, as many tests as the solution's, none a grader error (the skeleton must fail cleanly)."""
    rule = "the release gets 0"
    passed = [t.name for t in report.tests if t.status == "passed"]
    if passed:
        why = f"{report.score:g}/{report.max_score:g}: these tests pass on the skeleton: {', '.join(passed)}"
        return Verdict("release", rule, False, why, report)
    if report.grader_errors:
        why = "grader errors: " + "; ".join(f"{t.name} ({t.feedback[:160]})" for t in report.grader_errors)
        return Verdict("release", rule, False, why, report)
    if len(report.tests) != solution_tests:
        why = f"{len(report.tests)} tests ran on the release, {solution_tests} on the solution"
        return Verdict("release", rule, False, why, report)
    return Verdict("release", rule, True, "", report)


NAMED_MISTAKE = "it looks like"  # how assert_close names a mistake the output matches


def mutant_verdict(report: GradeReport, subject: str, feedback: str, not_named: tuple[str, ...] = ()) -> Verdict:
    """Rule 4: fewer points, some failing test's feedback contains `feedback`, no grader error. For a correct but
    under-trained mutant (`not_named`: the mistakes named for its cell, and NAMED_MISTAKE), no feedback may name a
    mistake: the evidence shows none."""
    rule = "the mutant loses points and its mistake is named"
    if report.score >= report.max_score:
        return Verdict(subject, rule, False, f"got full marks ({report.score:g}/{report.max_score:g})", report)
    if not any(feedback in t.feedback for t in report.tests if t.status != "passed"):
        return Verdict(subject, rule, False, f"no feedback says {feedback!r}: {_failing(report)}", report)
    named = sorted({m for t in report.tests if t.status != "passed" for m in not_named if m and m in t.feedback})
    if named:
        return Verdict(subject, rule, False, f"a correct but weak submission was told a mistake it does not make "
                       f"({', '.join(repr(m) for m in named)}): {_failing(report)}", report)
    if report.grader_errors:
        return Verdict(subject, rule, False, "grader errors: " + ", ".join(t.name for t in report.grader_errors), report)
    return Verdict(subject, rule, True, "", report)


def style_verdict(report: GradeReport, subject: str) -> Verdict:
    """Rule 5: full marks."""
    rule = "the other correct style gets full marks"
    if not report.tests or report.score != report.max_score:
        return Verdict(subject, rule, False, f"{report.score:g}/{report.max_score:g}: {_failing(report)}", report)
    return Verdict(subject, rule, True, "", report)


def mistakes_verdict(grader_file: Path, mutants: Iterable[Any]) -> Verdict:
    """Rule 3: each literal Mistake name of the grader contains some mutant's feedback text."""
    names = mistake_names(grader_file)
    mutants = list(mutants)
    covered = {m.feedback for m in mutants}
    missing = sorted(n for n in names if not any(c in n for c in covered))
    rule = "every named mistake is reached by a mutant"
    if not names:
        return Verdict("mistakes", rule, False, f"{grader_file.name} names no Mistake")
    if missing:
        return Verdict("mistakes", rule, False, "no mutant for: " + "; ".join(missing))
    return Verdict("mistakes", rule, True, detail=f"{len(names)} named mistakes, each reached by some of the {len(mutants)} mutants")


def mistake_names(grader_file: Path) -> set[str]:
    """The literal names of every `Mistake("...")` written in a grader file."""
    names = set()
    for node in ast.walk(ast.parse(grader_file.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and node.args:
            func = node.func
            called = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            first = node.args[0]
            if called == "Mistake" and isinstance(first, ast.Constant) and isinstance(first.value, str):
                names.add(first.value)
    return names


# ------------------------------------------------------------------------------------------------ the gate's data
def gate_data(course: Course, assignment_id: str) -> types.ModuleType | None:
    """tests/mutants/<id>.py of this course (MUTANTS, STYLES, CELL_TASKS), or None when it has none."""
    path = course.root / "tests" / "mutants" / f"{assignment_id}.py"
    if not path.is_file():
        return None
    _mutants_package(course.root)
    # A name of its own per file: a course copy's module must not be mistaken for the repository's
    name = f"_grader_gate_data_{hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:10]}_{assignment_id}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    saved, sys.dont_write_bytecode = sys.dont_write_bytecode, True  # no __pycache__ left in the course
    try:
        spec.loader.exec_module(module)
    finally:
        sys.dont_write_bytecode = saved
    return module


def _mutants_package(root: Path) -> None:
    """Make `from tests.mutants import Mutant, Style` work: the course's own tests/mutants/__init__.py where the
    `tests` package is not importable already (outside the repository's folder it is not installed)."""
    try:
        importlib.import_module("tests.mutants")
        return
    except ImportError:
        pass
    init = root / "tests" / "mutants" / "__init__.py"
    if not init.is_file():
        raise FileNotFoundError(f"{init} is missing: it defines Mutant and Style; copy it from the course repository")
    package = types.ModuleType("tests")
    package.__path__ = [str(root / "tests")]
    sys.modules.setdefault("tests", package)
    spec = importlib.util.spec_from_file_location("tests.mutants", init, submodule_search_locations=[str(init.parent)])
    module = importlib.util.module_from_spec(spec)
    sys.modules["tests.mutants"] = module
    spec.loader.exec_module(module)


def tasks_of(assignment: Assignment, cell_tasks: dict, cells: Iterable[str]) -> frozenset[str] | None:
    """The tasks whose tests can see an edit of these answer cells, or None for all (tests/test_assignments.py's
    rule: CELL_TASKS, else the task of the cell's name, else every task)."""
    task_ids = {t.id for t in assignment.tasks}
    found: set[str] = set()
    for cell in cells:
        if cell in cell_tasks:
            found |= set(cell_tasks[cell])
        elif cell in task_ids:
            found.add(cell)
        else:
            return None
    return frozenset(found)


def answer_cells(notebook: Path) -> dict[str, str]:
    import nbformat

    nb = nbformat.read(str(notebook), as_version=4)
    return {c.metadata["nbgrader"]["grade_id"]: c.source for c in nb.cells
            if c.metadata.get("nbgrader", {}).get("solution") and "grade_id" in c.metadata["nbgrader"]}


def edited_notebook(source: Path, cells: dict[str, str], folder: Path) -> Path:
    """A copy of `source` in `folder` with answer cells replaced (grade_id -> new source)."""
    import nbformat

    nb = nbformat.read(str(source), as_version=4)
    by_id = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")}
    for grade_id, text in cells.items():
        by_id[grade_id].source = text
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / source.name
    nbformat.write(nb, str(path))
    return path


# ------------------------------------------------------------------------------------------------ running the gate
def grade_for_gate(course: Course, assignment_id: str, path: Path, sandbox: Sandbox, secret: str,
                   tasks: frozenset[str] | None = None) -> GradeReport:
    """Grade as the gate does: as the STUDENT_ID the notebook declares (else GATE_STUDENT), under `secret`."""
    from grader.engine import grade
    from grader.submission import declared_student_id

    student = declared_student_id(path) or GATE_STUDENT
    return grade(path, assignment_id=assignment_id, student=student, course=course, sandbox=sandbox,
                 secret=secret.encode(), tasks=tasks)


def not_named_for(mutant, mutants) -> tuple[str, ...]:
    """What a `names_no_mistake` mutant must not be told: NAMED_MISTAKE and the other mutants' expected feedback for
    its cell, less the measurements (the feedback of every `names_no_mistake` mutant of the cell)."""
    if not getattr(mutant, "names_no_mistake", False):
        return ()
    cell = [m for m in mutants if m.cell == mutant.cell]
    measurements = {m.feedback for m in cell if getattr(m, "names_no_mistake", False)}
    return (NAMED_MISTAKE, *sorted({m.feedback for m in cell} - measurements))


def run_gate(course: Course, assignment_id: str, *, sandbox: Sandbox, secret: str, task: str | None = None,
             progress: Callable[[Verdict], None] | None = None, correct_only: bool = False) -> GateResult:
    """Every rule on the solution, the release, the mutants and the styles (with `task`: those that feed it;
    with `correct_only`: the solution and the styles alone, what must get full marks under every secret)."""
    from grader.release import build_release  # release imports this module for its rules

    assignment = course.assignment(assignment_id)
    if task is not None and task not in {t.id for t in assignment.tasks}:
        raise KeyError(f"no task {task!r} in {assignment_id} (tasks: {', '.join(t.id for t in assignment.tasks)})")
    result = GateResult(assignment_id, secret)
    add = result.verdicts.append if progress is None else (lambda v: (result.verdicts.append(v), progress(v)))
    only = frozenset({task}) if task else None
    points = sum(t.points for t in assignment.tasks if only is None or t.id in only)
    source = course.root / assignment.notebook
    module = gate_data(course, assignment_id)
    mutants, styles = list(getattr(module, "MUTANTS", ())), list(getattr(module, "STYLES", ()))
    cell_tasks = dict(getattr(module, "CELL_TASKS", {}))

    def scope(cells: Iterable[str]) -> tuple[bool, frozenset[str] | None]:
        """(whether an edit of these cells feeds the selected task, the tasks to grade it on: None for all)."""
        feeds = tasks_of(assignment, cell_tasks, cells)
        if only is None:
            return True, feeds
        return feeds is None or bool(only & feeds), only

    with tempfile.TemporaryDirectory(prefix="grader-preview-") as tmp:
        work = Path(tmp)
        solution = grade_for_gate(course, assignment_id, source, sandbox, secret, only)
        add(solution_verdict(solution, points))
        if correct_only:
            mutants = []
        else:
            release = build_release(course, assignment_id, work / "release")
            add(release_verdict(grade_for_gate(course, assignment_id, release, sandbox, secret, only), len(solution.tests)))
        if module is None:
            add(Verdict("mutants", "tests/mutants/<id>.py exists", False,
                        f"write tests/mutants/{assignment_id}.py with MUTANTS and STYLES (docs/authoring.md §3)"))
            return result
        if only is None and not correct_only:
            add(mistakes_verdict(course.root / assignment.grader, mutants))
            if not styles:
                add(Verdict("styles", "at least one other correct style", False, "add a Style to STYLES"))
        cells = answer_cells(source)
        for i, mutant in enumerate(mutants, 1):
            relevant, tasks = scope([mutant.cell])
            if not relevant:
                continue
            subject, detail = f"mutant {i}", f"{mutant.cell}: {_short(mutant.old)} -> {_short(mutant.new)}"
            original = cells.get(mutant.cell)
            if original is None or mutant.old not in original:
                where = "is not an answer cell" if original is None else f"has no {mutant.old!r}"
                add(Verdict(subject, "the mutant's edit applies", False, f"cell {mutant.cell!r} {where}; update the mutant",
                            detail=detail))
                continue
            path = edited_notebook(source, {mutant.cell: original.replace(mutant.old, mutant.new)}, work / f"mutant{i}")
            verdict = mutant_verdict(grade_for_gate(course, assignment_id, path, sandbox, secret, tasks), subject,
                                     mutant.feedback, not_named_for(mutant, mutants))
            verdict.detail = f"{detail}, expects {mutant.feedback!r}"
            add(verdict)
        for i, style in enumerate(styles, 1):
            relevant, tasks = scope(style.cells)
            if not relevant:
                continue
            unknown = sorted(set(style.cells) - set(cells))
            if unknown:
                add(Verdict(f"style {i}", "the style's cells are answer cells", False, f"no answer cell {unknown}",
                            detail=style.name))
                continue
            path = edited_notebook(source, dict(style.cells), work / f"style{i}")
            verdict = style_verdict(grade_for_gate(course, assignment_id, path, sandbox, secret, tasks), f"style {i}")
            verdict.detail = style.name
            add(verdict)
    return result


# ---------------------------------------------------------------------------------------------------- the output
def _short(text: str, width: int = 60) -> str:
    """A mutant's edit on one line: its repr, cut in the middle when long."""
    text = repr(text)
    return text if len(text) <= width else f"{text[:width // 2 - 2]} .. {text[-(width // 2 - 2):]}"


def verdict_text(v: Verdict) -> str:
    """A verdict and, under it, what a student would read: every test that did not pass, with its feedback."""
    score = f"{v.report.score:g}/{v.report.max_score:g}" if v.report is not None else "-"
    lines = [f"{'PASS' if v.ok else 'FAIL'}  {v.subject:<10} {score:>7}  {v.rule}"]
    if v.detail:
        lines.append(f"      {v.detail}")
    if not v.ok and v.why:
        lines += textwrap.wrap(f"why: {v.why}", 110, initial_indent="      ", subsequent_indent="        ")
    if v.report is not None and v.subject != "release":  # the skeleton fails everything with "not implemented"
        for t in v.report.tests:
            if t.status != "passed":
                head = f"      ✗ [{t.visibility}] {t.title} ({t.points:g}/{t.max_points:g}, {t.status})"
                lines.append(head)
                lines += textwrap.wrap(t.feedback, 104, initial_indent="          ", subsequent_indent="          ")
    return "\n".join(lines)


def summary_text(result: GateResult) -> str:
    failed = [v for v in result.verdicts if not v.ok]
    if not failed:
        return f"{result.assignment}: all {len(result.verdicts)} gate verdicts pass (GATE_SECRET={result.secret})"
    return (f"{result.assignment}: {len(failed)} of {len(result.verdicts)} gate verdicts fail "
            f"(GATE_SECRET={result.secret}): " + ", ".join(v.subject for v in failed))


# ---------------------------------------------------------------------------------------------------- the sweep
def _gate_under(course_path: str, assignment_id: str, secret: str, task: str | None, correct_only: bool) -> dict[str, Any]:
    """One secret's gate in a worker process, as plain data."""
    from grader.sandbox import Sandbox

    course = load_course(Path(course_path))
    with Sandbox() as sandbox:
        result = run_gate(course, assignment_id, sandbox=sandbox, secret=secret, task=task, correct_only=correct_only)
    return {"secret": secret, "verdicts": [v.to_dict() for v in result.verdicts]}


def sweep(course: Course, assignment_id: str, secrets: list[str], *, task: str | None = None,
          workers: int | None = None, progress: Callable[[dict], None] | None = None,
          correct_only: bool = False) -> dict[str, Any]:
    """The gate under each secret, in parallel worker processes (each with its own sandbox).

    Returns {"assignment", "task", "runs": [{secret, verdicts}], "failures": {subject: [secrets]},
    "messages": {subject: the first failure's reason}}.
    """
    workers = max(1, min(len(secrets), workers or os.cpu_count() or 1))
    runs: list[dict[str, Any]] = []
    # spawn: a fresh interpreter per worker, not a fork of this process and its threads
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
        futures = [pool.submit(_gate_under, str(course.path), assignment_id, s, task, correct_only) for s in secrets]
        for future in futures:
            run = future.result()
            runs.append(run)
            if progress is not None:
                progress(run)
    failures: dict[str, list[str]] = {}
    messages: dict[str, str] = {}
    for run in runs:
        for v in run["verdicts"]:
            if not v["ok"]:
                name = f"{v['subject']}: {v['rule']}"
                failures.setdefault(name, []).append(run["secret"])
                messages.setdefault(name, v["why"][:300])
    return {"assignment": assignment_id, "task": task, "runs": runs, "failures": failures, "messages": messages}


def sweep_text(result: dict[str, Any]) -> str:
    n = len(result["runs"])
    if not result["failures"]:
        return f"{result['assignment']}: no gate verdict failed under any of the {n} secrets"
    lines = []
    for name, failed in sorted(result["failures"].items(), key=lambda kv: -len(kv[1])):
        lines += [f"{len(failed)}/{n}  {name}", f"       secrets: {', '.join(failed)}", f"       {result['messages'][name]}"]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------- the command line
def add_preview_parser(sub) -> None:
    p = sub.add_parser("preview", help="run one assignment's quality gate and show what students would read")
    p.add_argument("assignment", help="assignment id")
    p.add_argument("--task", default=None, help="only this task's tests, and the mutants and styles that feed it")
    p.add_argument("--secrets", type=int, default=None, metavar="N",
                   help="run the gate under N secrets (<prefix>-0 ...) in parallel processes, and list what fails")
    p.add_argument("--prefix", default="sweep", help="the secrets of --secrets are <prefix>-0, <prefix>-1, ...")
    p.add_argument("--workers", type=int, default=None, help="processes for --secrets (default: one per CPU)")
    p.add_argument("--out", type=Path, default=None, help="write the --secrets results to this JSON file")
    p.add_argument("--course", type=Path, default=None, help="course.yaml or a folder inside the course")
    p.set_defaults(func=cmd_preview)


def cmd_preview(args) -> int:
    from grader.cli import CommandError
    from grader.release import ReleaseError

    course = load_course(args.course)
    tasks = [t.id for t in course.assignment(args.assignment).tasks]  # an unknown id: KeyError, reported with exit 2
    if args.task is not None and args.task not in tasks:  # before any sandbox starts
        raise CommandError(f"no task {args.task!r} in {args.assignment} (tasks: {', '.join(tasks)})")
    if args.secrets is not None and args.secrets < 1:
        raise CommandError("--secrets must be 1 or more")
    if args.out is not None and args.secrets is None:
        raise CommandError("--out holds the results of --secrets N: give --secrets too")
    if args.secrets is not None:
        names = [f"{args.prefix}-{i}" for i in range(args.secrets)]
        done = []

        def progress(run: dict) -> None:
            done.append(run)
            failed = sum(not v["ok"] for v in run["verdicts"])
            print(f"[{len(done)}/{len(names)}] GATE_SECRET={run['secret']}: {len(run['verdicts'])} verdicts, "
                  f"{failed} failed", flush=True)

        try:
            result = sweep(course, args.assignment, names, task=args.task, workers=args.workers, progress=progress)
        except (KeyError, ReleaseError) as exc:
            raise CommandError(exc.args[0]) from None
        print(sweep_text(result))
        if args.out is not None:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
            print(f"wrote {args.out}")
        return 1 if result["failures"] else 0
    from grader.sandbox import Sandbox

    secret = gate_secret()
    print(f"{args.assignment}: quality gate (docs/authoring.md §3) under GATE_SECRET={secret}"
          + (f", task {args.task}" if args.task else ""), flush=True)
    with Sandbox() as sandbox:
        if sandbox.warning:
            print(f"warning: {sandbox.warning}")
        try:
            result = run_gate(course, args.assignment, sandbox=sandbox, secret=secret, task=args.task,
                              progress=lambda v: print(verdict_text(v), flush=True))
        except (KeyError, ReleaseError) as exc:
            raise CommandError(exc.args[0]) from None
    print(summary_text(result))
    return 0 if result.ok else 1
