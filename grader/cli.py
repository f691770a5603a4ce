"""The `grader` command line: one function per subcommand, all registered in `build_parser`.

Exit codes: 0 when the command ran (whatever a submission scored), 2 when it cannot run (bad arguments, a broken
course.yaml, no sandbox where one is required), with a message on stderr saying what to do.
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import fields
from pathlib import Path

from grader.course import (
    DTYPES,
    TOLERANCES_DESCRIPTION,
    Assignment,
    Course,
    CourseConfigError,
    CourseInfo,
    Defaults,
    LimitsConfig,
    Tolerance,
    check_course,
    load_course,
)


class CommandError(Exception):
    """A command cannot run; the message says what to do."""


def add_course_parser(sub) -> None:
    p = sub.add_parser("course", help="check or show course.yaml")
    actions = p.add_subparsers(dest="action", required=True)
    v = actions.add_parser("validate", help="check course.yaml: keys, types, files, duplicate ids")
    _course_option(v)
    v.set_defaults(func=cmd_course_validate)
    s = actions.add_parser("show", help="print the effective settings of every assignment, with what each key means")
    _course_option(s)
    s.set_defaults(func=cmd_course_show)


def _course_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--course", type=Path, default=None,
        help="course.yaml or a folder inside the course (default: found from the current folder)",
    )


def _plural(n: float, word: str) -> str:
    return f"{n:g} {word}{'' if n == 1 else 's'}"


def cmd_course_validate(args) -> int:
    course = load_course(args.course)
    check_course(course)  # what loading cannot see: points against the graders' markers, forbidden-call rules
    tasks = sum(len(a.tasks) for a in course.assignments)
    points = sum(a.points for a in course.assignments)
    print(
        f"{course.path.name} OK: {_plural(len(course.assignments), 'assignment')}, {_plural(tasks, 'task')}, "
        f"{_plural(points, 'point')}"
    )
    for line in _placeholders_left(course):
        print(f"warning: {line}", file=sys.stderr)
    return 0


def _placeholders_left(course: Course) -> list[str]:
    """The scaffold's `TODO(instructor)` placeholders still in an assignment's files: they pass every check, so only
    this says that the exercise is not written yet."""
    from grader.scaffold import TODO

    out = []
    for a in course.assignments:
        files = [a.notebook, a.grader, f"tests/mutants/{a.id}.py", *(str(p.relative_to(course.root)) for p in
                 sorted((course.root / "examples" / a.id).glob("*")) if p.is_file())]
        left = {f: (course.root / f).read_text(encoding="utf-8", errors="replace").count(TODO)
                for f in files if (course.root / f).is_file()}
        left = {f: n for f, n in left.items() if n}
        if left:
            out.append(f"{a.id} still has scaffold placeholders ({TODO}) in "
                       + ", ".join(f"{f} ({n})" for f, n in left.items()))
    return out


def cmd_course_show(args) -> int:
    course = load_course(args.course)
    print(course_settings_text(course))
    return 0


def course_settings_text(course: Course) -> str:
    """Every assignment's effective settings, where each value comes from, and what each key means; then the
    tolerances and call limit of each task that sets its own."""
    meaning = {f"limits.{f.name}": f.metadata["description"] for f in fields(LimitsConfig)}
    meaning |= {f.name: f.metadata["description"] for f in fields(Defaults)}
    meaning |= {f"tolerances.{d}.{f.name}": f"{f.metadata['description']} of a {d} result"
                for d in DTYPES for f in fields(Tolerance)}
    lines = [course.name, f"  file         {course.path}"]
    lines.append(f"  variant_key  {course.variant_key or '(none)'}  ({_description(CourseInfo, 'variant_key')})")
    for a in course.assignments:
        settings = course.settings(a.id)
        lines += [
            "",
            f"{a.id}: {a.title}",
            f"  notebook  {a.notebook}  ({_description(Assignment, 'notebook')})",
            f"  grader    {a.grader}  ({_description(Assignment, 'grader')})",
            f"  tasks     {_plural(len(a.tasks), 'task')}, {_plural(a.points, 'point')}",
        ]
        lines += [f"    {t.id:<18} {_plural(t.points, 'point'):<10} {t.title}" for t in a.tasks]
        values = {"device": settings.device}
        values |= {f"limits.{f.name}": f"{getattr(settings.limits, f.name):g}" for f in fields(LimitsConfig)}
        values |= _tolerance_values(settings.tolerances)
        width = max(len(v) for v in values.values())
        lines.append("  effective settings ([where the value comes from] and what the key means):")
        for name, value in values.items():
            where = f"[{settings.origin[name]}]"
            lines.append(f"    {name:<26} {value:<{width}}  {where:<21} {meaning[name]}".rstrip())
        own = [t for t in settings.tasks.values() if t.own in t.origin.values()]
        if own:
            lines.append("  tasks with their own settings (the other tasks use the assignment's):")
        for task in own:
            lines.append(f"    {task.id}")
            task_values = {**_tolerance_values(task.tolerances), "limits.call_seconds": f"{task.call_seconds:g}"}
            for name, value in task_values.items():
                where = f"[{task.origin[name]}]"
                lines.append(f"      {name:<24} {value:<{width}}  {where}")
    lines += ["", f"tolerances: {TOLERANCES_DESCRIPTION}"]
    return "\n".join(lines)


def _tolerance_values(tolerances) -> dict[str, str]:
    return {f"tolerances.{d}.{k}": f"{getattr(t, k):g}" for d, t in tolerances.items() for k in ("rtol", "atol")}


def _description(cls: type, name: str) -> str:
    return next(f.metadata["description"] for f in fields(cls) if f.name == name)


def add_release_parser(sub) -> None:
    p = sub.add_parser("release", help="build assignments/ from solutions/ with nbgrader")
    p.add_argument("assignment", nargs="?", default=None, help="one assignment id (default: all)")
    p.add_argument("--no-verify", action="store_true",
                   help="write the release without grading it (by default the solution must get full marks and the "
                        "release 0, else nothing is written)")
    _course_option(p)
    p.set_defaults(func=cmd_release)


def cmd_release(args) -> int:
    from grader.release import ReleaseError, release

    course = load_course(args.course)
    if args.assignment:
        _known_assignment(course, args.assignment)
    try:
        # the verdicts go to stderr: stdout lists what was written, one path a line
        for path in release(course, args.assignment, verify=not args.no_verify,
                            report=lambda line: print(line, file=sys.stderr, flush=True)):
            print(f"wrote {path.relative_to(course.root)}")
    except ReleaseError as exc:
        raise CommandError(str(exc)) from None
    return 0


def _known_assignment(course, assignment_id: str) -> None:
    try:
        course.assignment(assignment_id)
    except KeyError as exc:
        raise CommandError(exc.args[0]) from None


def add_grade_parser(sub) -> None:
    p = sub.add_parser("grade", help="grade one submission (notebook, .py file or folder) in the sandbox")
    p.add_argument("submission", type=Path, help="filled-in release notebook (.ipynb), .py file or folder")
    p.add_argument("--assignment", help="assignment id (default: from the notebook's file name)")
    p.add_argument("--student", default=None, help="student id (default: the notebook's STUDENT_ID, else the file name)")
    p.add_argument("--device", choices=("cpu", "cuda"), default=None, help="device for the student's tensors (default: course.yaml)")
    p.add_argument("--json", action="store_true", help="print exactly one JSON object on stdout")
    p.add_argument("--require-sandbox", action="store_true", help="refuse to grade without namespaces and seccomp")
    p.add_argument("--course", type=Path, default=None, help="course.yaml (default: found from the current folder)")
    p.set_defaults(func=cmd_grade)


def cmd_grade(args) -> int:
    from grader.engine import GraderError, grade
    from grader.report import table
    from grader.sandbox import Sandbox, SandboxError
    from grader.student_check import find_assignment
    from grader.submission import declared_student_id

    if not args.submission.exists():
        raise CommandError(f"{args.submission} does not exist: give the path of a notebook, .py file or folder")
    course = load_course(args.course)
    assignment_id = args.assignment or find_assignment(course, args.submission)
    device = args.device or course.device(assignment_id)
    try:
        with Sandbox(device=device, require_isolation=args.require_sandbox) as sandbox:
            report = grade(
                args.submission, assignment_id=assignment_id, course=course, device=device, sandbox=sandbox,
                # One submission: the id given, else the STUDENT_ID the notebook declares, else the file name.
                # Class runs (autograde) never trust the notebook: the id comes from the folder or file name.
                student=args.student or declared_student_id(args.submission) or args.submission.stem,
            )
    except (SandboxError, GraderError) as exc:
        raise CommandError(str(exc)) from None
    if args.json:
        print(json.dumps(report.to_dict()))
    else:
        print(table(report))
    return 0


def add_check_parser(sub) -> None:
    p = sub.add_parser("check", help="run the public checks on your notebook (students and self-learners)")
    p.add_argument("notebook", type=Path, help="your saved notebook")
    p.add_argument("--task", default=None, help="check one task only, e.g. sigmoid")
    p.add_argument("--assignment", default=None, help="assignment id (default: from the file name)")
    p.set_defaults(func=cmd_check)


def cmd_check(args) -> int:
    from grader.student_check import check_notebook

    if not args.notebook.exists():
        raise CommandError(f"{args.notebook} does not exist: save your notebook and give its path")
    print(check_notebook(args.notebook, assignment_id=args.assignment, task=args.task))
    return 0


def add_demo_parser(sub) -> None:
    p = sub.add_parser("demo", help="grade the bundled example submissions and write a report")
    p.add_argument("--out", type=Path, default=Path("out"), help="folder for the report (default: out)")
    _course_option(p)
    p.set_defaults(func=cmd_demo)


def cmd_demo(args) -> int:
    from grader.demo import run_demo

    print(run_demo(load_course(args.course), args.out))
    print(f"report written to {args.out / 'report.md'}")
    return 0


def add_autograde_parser(sub) -> None:
    p = sub.add_parser("autograde", help="grade a whole class in parallel into the SQLite gradebook (resumable)")
    p.add_argument("submissions", type=Path, help="nbgrader's submitted/ folder (or the course folder holding it), "
                   "or a flat folder of <student>.ipynb/.py files")
    p.add_argument("--assignment", default=None, help="grade only this assignment (required for a flat folder)")
    p.add_argument("--gradebook", type=Path, default=Path("gradebook.sqlite"), help="SQLite gradebook (default: gradebook.sqlite)")
    p.add_argument("--workers", type=int, default=None, help="grading processes on this machine (default: one per CPU; 0: in this process)")
    p.add_argument("--force", action="store_true", help="regrade submissions that did not change since they were graded")
    p.add_argument("--executor", choices=("local", "dask"), default="local", help="local process pool (default) or a Dask cluster")
    p.add_argument("--scheduler", default=None, help="Dask scheduler address, e.g. tcp://10.0.0.5:8786 (with --executor dask)")
    p.add_argument("--device", choices=("cpu", "cuda"), default=None, help="device for the student's tensors (default: course.yaml)")
    p.add_argument("--require-sandbox", action="store_true", help="refuse to grade without namespaces and seccomp")
    p.add_argument("--no-progress", action="store_true", help="no progress bar (logs)")
    add_lms_and_deadline_options(p)
    _course_option(p)
    p.set_defaults(func=cmd_autograde)


def add_lms_and_deadline_options(p: argparse.ArgumentParser) -> None:
    """Where submissions come from (an LMS download) and when they were due; see grader/lms.py, grader/deadlines.py."""
    p.add_argument("--lms", choices=("canvas", "moodle", "gradescope"), default=None,
                   help="SUBMISSIONS is that platform's download (zip or folder) of one --assignment")
    p.add_argument("--roster", type=Path, default=None,
                   help="CSV mapping platform ids to student ids: student and any of canvas_id, moodle_id, email")
    p.add_argument("--due", default=None, help="due date, ISO 8601 with offset (default: the assignment's due in course.yaml)")
    p.add_argument("--late-policy", default=None,
                   help="none | cutoff | per_day:PERCENT[,max_days:N] (default: course.yaml's late_policy, else none)")


def lms_and_deadlines(args, course: Course) -> tuple[list, dict]:
    """The submissions (from an LMS download when --lms is given) and the --due deadline, if any."""
    from grader.autograde import find_submissions
    from grader.deadlines import DeadlineError, deadline_of
    from grader.lms import ingest

    deadlines = {}
    try:
        if args.due is not None or args.late_policy is not None:
            if args.assignment is None:
                raise CommandError("--due and --late-policy apply to one assignment: give --assignment too")
            deadline = deadline_of(course.assignment(args.assignment), due=args.due, policy=args.late_policy)
            if deadline is None:
                raise CommandError(f"--late-policy needs a due date: give --due, or set due for {args.assignment}")
            deadlines[args.assignment] = deadline
        for a in course.assignments:  # a bad due date in course.yaml stops the run before anything is graded
            deadline_of(a)
    except DeadlineError as exc:
        raise CommandError(str(exc)) from None
    if args.lms is None:
        if args.roster is not None:
            raise CommandError("--roster maps an LMS download's ids: give --lms canvas|moodle|gradescope too")
        return find_submissions(args.submissions, course, args.assignment), deadlines
    ingested = ingest(args.submissions, course, args.assignment, args.lms, args.roster)
    for item in ingested.unmapped:
        print(f"  not graded: {item.item}: {item.why}")
    if ingested.unmapped:
        print(f"{len(ingested.unmapped)} item(s) of the {args.lms} download not mapped to a student (listed above, "
              "not guessed); add them to --roster and run again")
    return ingested.submissions, deadlines


def cmd_autograde(args) -> int:
    import os

    from grader.autograde import AutogradeError, DaskExecutor, LocalExecutor, autograde
    from grader.gradebook import GradebookError

    course = load_course(args.course)
    if args.workers is not None and args.workers < 0:
        raise CommandError("--workers must be 0 or more")
    if args.executor == "dask":
        if not args.scheduler:
            raise CommandError("--executor dask needs --scheduler ADDRESS (the Dask scheduler, e.g. tcp://host:8786)")
        executor = DaskExecutor(args.scheduler)
    else:
        executor = LocalExecutor(os.cpu_count() or 1 if args.workers is None else args.workers)
    try:
        submissions, deadlines = lms_and_deadlines(args, course)
        summary = autograde(submissions, course, args.gradebook, executor=executor, force=args.force, device=args.device,
                            require_isolation=args.require_sandbox, progress=not args.no_progress, deadlines=deadlines)
    except (AutogradeError, GradebookError) as exc:
        raise CommandError(str(exc)) from None
    print(summary.line())
    for assignment, student, reason in summary.failures[:20]:
        print(f"  failed: {assignment} {student}: {reason[:200]}")
    for assignment, student, problem in summary.notebook_choices[:20]:
        print(f"  check: {assignment} {student}: {problem[:240]}")
    print(f"gradebook: {args.gradebook}")
    return 0


def add_report_parser(sub) -> None:
    p = sub.add_parser("report", help="write self-contained HTML feedback pages (one per student, one per class)")
    p.add_argument("--gradebook", type=Path, required=True, help="the gradebook file `grader autograde` wrote")
    p.add_argument("--assignment", default=None, help="one assignment id (default: every assignment in the gradebook)")
    p.add_argument("--out", type=Path, required=True, help="folder for OUT/<assignment>/<student>.html and index.html")
    _course_option(p)
    p.set_defaults(func=cmd_report)


def cmd_report(args) -> int:
    from grader.html_report import cmd_report as write_html_reports  # matplotlib and jinja2 load only here

    return write_html_reports(args)


def add_export_parser(sub) -> None:
    from grader.export import add_export_parser as add  # the export module's own options and command

    add(sub)


def add_override_parser(sub) -> None:
    from grader.overrides import add_override_parser as add  # the override's own options and command

    add(sub)


def add_gradescope_parser(sub) -> None:
    from grader.gradescope import add_gradescope_parser as add  # the bundle's own options and command

    add(sub)


def add_authoring_parsers(sub) -> None:
    from grader.preview import add_preview_parser
    from grader.scaffold import add_scaffold_parsers  # `grader new` and `grader add-task`

    add_scaffold_parsers(sub)
    add_preview_parser(sub)


def add_kit_parser(sub) -> None:
    p = sub.add_parser("kit", help="build one assignment's student kit for a class (its own numbers, a zip to upload)")
    p.add_argument("assignment", help="assignment id")
    p.add_argument("--out", type=Path, required=True, help="folder to build the kit in (kits/ holds the committed ones)")
    p.add_argument("--roster", type=Path, help="roster CSV with a `student` column: the kit carries each student's numbers")
    p.add_argument("--zip", type=Path, dest="zip_path", help="also write a zip of the kit's folder here")
    _course_option(p)
    p.set_defaults(func=cmd_kit)


def cmd_kit(args) -> int:
    from grader.kit import KitError, class_kit

    course = load_course(args.course)
    try:
        kit = class_kit(course, args.assignment, args.out, roster=args.roster, zip_path=args.zip_path)
    except KitError as exc:
        raise CommandError(str(exc)) from None
    print(f"built {kit}" + (f" and {args.zip_path}" if args.zip_path else ""))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="grader", description="Build, check and grade the course's assignments.")
    sub = parser.add_subparsers(dest="command", required=True)
    for add in (add_course_parser, add_release_parser, add_grade_parser, add_check_parser, add_demo_parser,
                add_autograde_parser, add_report_parser, add_export_parser, add_gradescope_parser,
                add_override_parser, add_authoring_parsers, add_kit_parser):
        add(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # argparse has printed the usage error (exit 2) or the help (exit 0)
        return exc.code if isinstance(exc.code, int) else 2
    try:
        return args.func(args)
    except (CommandError, CourseConfigError) as exc:
        print(f"grader: error: {exc}", file=sys.stderr)
        return 2
    except KeyError as exc:  # an unknown assignment id
        print(f"grader: error: {exc.args[0]}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
