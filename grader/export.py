"""Exports of the class gradebook for instructors to upload: a per-task CSV, Canvas, Gradescope and nbgrader.

    with Gradebook(Path("gradebook.sqlite")) as gb:
        export(gb, course, "a00_warmup", "canvas", Path("out/a00_canvas.csv"), canvas_map=Path("roster.csv"))

`grader export --gradebook PATH --assignment ID --format tasks|canvas|gradescope|nbgrader --out PATH` does the same.
Every format is computed from one `ClassScores` (the gradebook's rows for one assignment, grouped by course.yaml
task), so the formats cannot disagree. Students are in sorted order and numbers are rounded to 6 decimals and
printed without float noise (0.1 + 0.2 is written 0.3, 2.0 is written 2).

**tasks** (CSV): student, status (graded/failed), one column per course.yaml task (points earned), total, max,
reason. `total` is the gradebook's score of the submission (the grade of record; it equals the sum of the task
columns unless a grader has tests without a task marker); `max` is the assignment's points in course.yaml.

**canvas** (CSV for Grades > Import; Canvas's guide is "How do I import grades in the Gradebook?",
https://community.canvaslms.com/t5/Instructor-Guide/How-do-I-import-grades-in-the-Gradebook/ta-p/807). What
Canvas accepts is defined by its importer, instructure/canvas-lms lib/gradebook_importer.rb (`header?`,
`row_has_student_headers?`, `update_column_count`, `check_for_non_student_row`, `process_student`,
`parse_assignments`) and app/models/assignment.rb (`title_and_id`), which reads:
- a header whose first columns are `Student`, `ID`, then `SIS User ID`, `SIS Login ID`, then `Section`; every later
  column is an assignment, named `<title> (<canvas assignment id>)` (matched by id) or `<title>` (matched by title;
  an unknown title creates a new assignment);
- an optional row whose first cell contains `Points Possible`, giving each assignment's points;
- one row per student. A student is found by `ID` (the Canvas user id) first, then by `SIS User ID` (the pseudonym's
  sis_user_id), then by `SIS Login ID` (the pseudonym's unique_id, the login name), and last by display name.
  A blank grade (or `-`) means "no change".
Our student id is the id students submit under (their university login, as in nbgrader and JupyterHub), so it goes
in **SIS Login ID**: that is the column Canvas compares with the login name. SIS User ID stays blank unless the
roster gives one, because Canvas tries it before the login and our id is not the registrar's number: a wrong but
existing SIS User ID would grade another student. A roster CSV (`--canvas-map`, header `student,canvas_id,name`,
optional `sis_user_id`, `sis_login_id`, `section`) fills in `ID`, which Canvas tries first and which cannot be
ambiguous, and the display name. A submission whose grading *failed* gets a blank grade, so an import never turns
a grader failure into a 0 in Canvas; the tasks CSV lists the reason, and `grader export` prints the students.

**gradescope** (`<out>/<student>/results.json`), following Gradescope's autograder specification
(https://gradescope-autograders.readthedocs.io/en/latest/specs/, gradescope/autograder_samples docs/specs.md):
top-level score, execution_time, output, visibility, stdout_visibility, extra_data and tests[] with score,
max_score, status (passed/failed), name, number, output, tags, visibility. Our *public* tests are `visible`. Our
*hidden* tests are `after_published`, not `hidden`: the spec says `hidden` tests "will never be shown to
students" and (older text of the same page) should only be used "for tests which don't contribute points to the
total", while our hidden tests carry points and their feedback is meant for the student once grades are released;
`after_published` shows them when the instructor publishes from "Review Grades". All outputs are plain `text`
(the top-level default, `simple_format`, would render HTML from feedback text). tests/data/export/
gradescope_results.schema.json is a JSON Schema written from that page; the tests validate every document with it.

**nbgrader** (an nbgrader gradebook.db, through nbgrader.api.Gradebook so its formgrader shows the scores): one
nbgrader assignment per course assignment (named by its id), one notebook (the notebook's stem), one code grade
cell per course.yaml task (named by the task id, max_score = task points), each student added, one submission per
student whose grade for each task has auto_score = the points earned. Re-running updates the same rows (found by
name); grade cells of tasks no longer in course.yaml are removed with their grades, so nbgrader's max_score stays
course.yaml's. A failed submission gets auto_score 0 and needs_manual_grade, so the formgrader lists it as needing
a grader; a manual score a grader gave in the formgrader is never overwritten.
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import re
import sqlite3
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.course import Course
from grader.gradebook import Gradebook, GradebookError

FORMATS = ("tasks", "canvas", "gradescope", "nbgrader")
CANVAS_STUDENT_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
CANVAS_POINTS_POSSIBLE = "Points Possible"
CANVAS_MAP_REQUIRED = ("student", "canvas_id", "name")
CANVAS_MAP_OPTIONAL = ("sis_user_id", "sis_login_id", "section")
GRADESCOPE_VISIBILITY = {"public": "visible", "hidden": "after_published"}
GRADESCOPE_FILE = "results.json"
NBGRADER_COURSE_ID = "default_course"  # what nbgrader's own preprocessors use when no course id is configured
DECIMALS = 6
# Canvas reads a header "<title> (<digits>)" as the assignment with that id: Assignment.title_and_id matches
# /\A(.*)\s\((\d+)\)\z/, and Assignment#title_with_id writes "#{title} (#{id})".
_TITLE_WITH_ID = re.compile(r"(.*)\s\((\d+)\)", re.DOTALL)


class ExportError(Exception):
    """An export cannot be written (unknown assignment, nothing graded, a bad roster file); the message says why."""


# --------------------------------------------------------------------------------------------- the scores


@dataclass(frozen=True)
class TestScore:
    test: str
    task: str | None
    title: str
    visibility: str  # public | hidden
    status: str  # passed | failed | error | timeout | crashed
    score: float
    max_score: float
    feedback: str


@dataclass(frozen=True)
class StudentScore:
    student: str
    status: str  # graded | failed
    reason: str
    total: float
    by_task: Mapping[str, float]  # course.yaml task id -> points earned (0 for a task with no test results)
    tests: tuple[TestScore, ...]
    problems: tuple[str, ...]
    seconds: float
    submission_hash: str
    grader_version: str


@dataclass(frozen=True)
class ClassScores:
    """One assignment's grades, as every export format sees them."""

    assignment_id: str
    title: str
    notebook: str  # the notebook's stem, nbgrader's notebook name
    tasks: tuple[tuple[str, float], ...]  # (task id, points) in course.yaml order
    max_score: float
    students: tuple[StudentScore, ...] = field(default=())

    @property
    def failed(self) -> list[str]:
        return [s.student for s in self.students if s.status == "failed"]


def class_scores(gradebook: Gradebook, course: Course, assignment_id: str) -> ClassScores:
    """The gradebook's rows for one assignment, grouped by course.yaml task, in student order."""
    try:
        assignment = course.assignment(assignment_id)
    except KeyError as exc:
        raise ExportError(exc.args[0]) from None
    submissions = gradebook.submissions(assignment_id)
    if not submissions:
        raise ExportError(
            f"{gradebook.path} holds no graded submission of {assignment_id}: grade the class into it first "
            f"(grader autograde SUBMISSIONS --gradebook {gradebook.path})"
        )
    tests_by_student: dict[str, list[TestScore]] = {}
    for r in gradebook.results(assignment_id):
        tests_by_student.setdefault(r["student"], []).append(TestScore(
            test=r["test"], task=r["task"], title=r["title"], visibility=r["visibility"], status=r["status"],
            score=float(r["score"]), max_score=float(r["max_score"]), feedback=r["feedback"],
        ))
    task_ids = [t.id for t in assignment.tasks]
    students = []
    for s in sorted(submissions, key=lambda row: row["student"]):
        tests = tests_by_student.get(s["student"], [])
        by_task = {task: 0.0 for task in task_ids}
        for t in tests:
            if t.task in by_task:
                by_task[t.task] += t.score
        students.append(StudentScore(
            student=s["student"], status=s["status"], reason=s["reason"], total=float(s["score"]),
            by_task={k: _round(v) for k, v in by_task.items()}, tests=tuple(tests), problems=tuple(s["problems"]),
            seconds=float(s["seconds"]), submission_hash=s["submission_hash"], grader_version=s["grader_version"],
        ))
    return ClassScores(
        assignment_id=assignment_id, title=assignment.title, notebook=Path(assignment.notebook).stem,
        tasks=tuple((t.id, float(t.points)) for t in assignment.tasks), max_score=float(assignment.points),
        students=tuple(students),
    )


def _round(value: float) -> float:
    """`value` without float noise: 6 decimals, and never -0.0."""
    return round(float(value), DECIMALS) + 0.0


def number(value: float) -> str:
    """A number as an instructor would write it: 2, 1.5, 0.3 (never 2.0, 0.30000000000000004 or 1e-07)."""
    text = f"{_round(value):.{DECIMALS}f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def _csv_text(rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")  # RFC 4180, which Canvas's importer follows
    writer.writerows(rows)
    return buffer.getvalue()


# --------------------------------------------------------------------------------------------- tasks CSV


def tasks_csv(gradebook: Gradebook, course: Course, assignment_id: str) -> str:
    """One row per student: student, status, points per course.yaml task, total, max, reason (for failed)."""
    scores = class_scores(gradebook, course, assignment_id)
    rows = [["student", "status", *(task for task, _ in scores.tasks), "total", "max", "reason"]]
    for s in scores.students:
        rows.append([
            s.student, s.status, *(number(s.by_task[task]) for task, _ in scores.tasks), number(s.total),
            number(scores.max_score), s.reason,
        ])
    return _csv_text(rows)


# --------------------------------------------------------------------------------------------- Canvas CSV


@dataclass(frozen=True)
class CanvasStudent:
    canvas_id: str
    name: str
    sis_user_id: str = ""
    sis_login_id: str = ""
    section: str = ""


def read_canvas_map(path: Path) -> dict[str, CanvasStudent]:
    """The roster CSV: header student,canvas_id,name (and optionally sis_user_id, sis_login_id, section)."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")  # a spreadsheet's byte-order mark is fine
    except FileNotFoundError:
        raise ExportError(f"{path} does not exist: give a roster CSV with header {','.join(CANVAS_MAP_REQUIRED)}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ExportError(f"{path} cannot be read ({exc}); save it as a UTF-8 CSV") from None
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [h for h in CANVAS_MAP_REQUIRED if h not in header]
    if missing:
        raise ExportError(
            f"{path}: the header has no column {', '.join(missing)}; expected {','.join(CANVAS_MAP_REQUIRED)} "
            f"(optionally {', '.join(CANVAS_MAP_OPTIONAL)}), found {','.join(header) or 'nothing'}"
        )
    roster: dict[str, CanvasStudent] = {}
    for line, raw in enumerate(reader, start=2):
        row = {(k or "").strip(): (v or "").strip() for k, v in raw.items() if k is not None}
        student, canvas_id = row["student"], row["canvas_id"]
        if not student:
            raise ExportError(f"{path}: line {line}: the student column is empty")
        if student in roster:
            raise ExportError(f"{path}: line {line}: student {student!r} appears twice; keep one row per student")
        if canvas_id and not canvas_id.isdigit():
            raise ExportError(
                f"{path}: line {line}: canvas_id {canvas_id!r} is not a number; use the ID column of a Canvas "
                "gradebook export (Canvas ignores any other value and falls back to the login)"
            )
        roster[student] = CanvasStudent(
            canvas_id=canvas_id, name=row["name"], sis_user_id=row.get("sis_user_id", ""),
            sis_login_id=row.get("sis_login_id", ""), section=row.get("section", ""),
        )
    return roster


def canvas_column(title: str, canvas_assignment_id: str | None = None) -> str:
    """The assignment's column header: `<title> (<id>)` when the Canvas assignment id is known, else the title."""
    if canvas_assignment_id:
        if not str(canvas_assignment_id).isdigit():
            raise ExportError(f"the Canvas assignment id must be a number (from the assignment's URL), found {canvas_assignment_id!r}")
        return f"{title} ({canvas_assignment_id})"
    if _TITLE_WITH_ID.fullmatch(title):
        raise ExportError(
            f"the title {title!r} ends in a number in parentheses, which Canvas would read as an assignment id: "
            "give the Canvas assignment id (--canvas-assignment-id)"
        )
    return title


def canvas_csv(gradebook: Gradebook, course: Course, assignment_id: str, *, canvas_map: Path | None = None,
               canvas_assignment_id: str | None = None) -> str:
    """A CSV for Canvas's Gradebook > Import: header, Points Possible row, one row per student (see module doc)."""
    scores = class_scores(gradebook, course, assignment_id)
    roster = read_canvas_map(canvas_map) if canvas_map is not None else {}
    rows = [
        [*CANVAS_STUDENT_COLUMNS, canvas_column(scores.title, canvas_assignment_id)],
        [CANVAS_POINTS_POSSIBLE, "", "", "", "", number(scores.max_score)],
    ]
    for s in scores.students:
        known = roster.get(s.student, CanvasStudent(canvas_id="", name=""))
        grade = number(s.total) if s.status == "graded" else ""  # blank: Canvas leaves the grade unchanged
        rows.append([
            known.name or s.student, known.canvas_id, known.sis_user_id, known.sis_login_id or s.student,
            known.section, grade,
        ])
    return _csv_text(rows)


def unmapped_students(gradebook: Gradebook, course: Course, assignment_id: str, canvas_map: Path) -> list[str]:
    """Students graded for the assignment whom the roster does not list (Canvas must find them by login)."""
    roster = read_canvas_map(canvas_map)
    return [s.student for s in class_scores(gradebook, course, assignment_id).students if s.student not in roster]


# --------------------------------------------------------------------------------------------- Gradescope


def gradescope_results(gradebook: Gradebook, course: Course, assignment_id: str) -> dict[str, dict[str, Any]]:
    """One Gradescope results.json document per student (see module doc), keyed by student id."""
    scores = class_scores(gradebook, course, assignment_id)
    return {s.student: _gradescope_document(scores, s) for s in scores.students}


def _gradescope_document(scores: ClassScores, s: StudentScore) -> dict[str, Any]:
    order = {task: i for i, (task, _) in enumerate(scores.tasks, start=1)}
    other = len(scores.tasks) + 1  # tests without a course.yaml task are numbered after the tasks
    counters: dict[int, int] = {}
    tests = []
    for t in sorted(s.tests, key=lambda t: order.get(t.task, other)):  # stable: gradebook order within a task
        group = order.get(t.task, other)
        counters[group] = counters.get(group, 0) + 1
        tags = [t.task] if t.task else []
        if t.status not in ("passed", "failed"):
            tags.append(t.status)  # error, timeout, crashed: Gradescope only knows passed/failed
        tests.append({
            "score": _round(t.score),
            "max_score": _round(t.max_score),
            "status": "passed" if t.status == "passed" else "failed",
            "name": t.title,
            "name_format": "text",
            "number": f"{group}.{counters[group]}",
            "output": t.feedback,
            "output_format": "text",
            "tags": tags,
            "visibility": GRADESCOPE_VISIBILITY[t.visibility],
            "extra_data": {"test": t.test, "status": t.status},
        })
    if s.status == "failed":
        output = f"This submission could not be graded: {s.reason}"
    else:
        output = f"Score: {number(s.total)} / {number(scores.max_score)}"
    if s.problems:
        output += "\n\nTo fix:\n" + "\n".join(f"- {p}" for p in s.problems)
    return {
        "score": _round(s.total),
        "execution_time": _round(round(s.seconds, 3)),
        "output": output,
        "output_format": "text",
        "test_output_format": "text",
        "test_name_format": "text",
        "visibility": "visible",
        "stdout_visibility": "hidden",  # the harness's stdout is for instructors; nothing of ours is printed there
        "extra_data": {
            "assignment": scores.assignment_id, "student": s.student, "status": s.status,
            "submission_hash": s.submission_hash, "grader_version": s.grader_version,
        },
        "tests": tests,
    }


def write_gradescope(gradebook: Gradebook, course: Course, assignment_id: str, out: Path) -> list[Path]:
    """`out/<student>/results.json` for every student; returns the files written."""
    written = []
    for student, doc in gradescope_results(gradebook, course, assignment_id).items():
        path = Path(out) / _safe_name(student) / GRADESCOPE_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        written.append(path)
    return written


def _safe_name(student: str) -> str:
    """A student id as one folder name (ids come from file names, but never let one climb out of `out`)."""
    name = re.sub(r"[^A-Za-z0-9._@+-]", "_", student)
    return "_" + name if name in ("", ".", "..") else name


# --------------------------------------------------------------------------------------------- nbgrader


@dataclass(frozen=True)
class NbgraderSummary:
    assignment: str
    notebook: str
    students: int
    removed_cells: tuple[str, ...]


def write_nbgrader(gradebook: Gradebook, course: Course, assignment_id: str, db_path: Path, *,
                   canvas_map: Path | None = None, course_id: str = NBGRADER_COURSE_ID) -> NbgraderSummary:
    """Scores into nbgrader's own gradebook (an sqlite file, created if missing) through nbgrader.api."""
    scores = class_scores(gradebook, course, assignment_id)
    roster = read_canvas_map(canvas_map) if canvas_map is not None else {}
    db_path = Path(db_path)
    _check_nbgrader_file(db_path, gradebook.path)
    db_path.parent.mkdir(parents=True, exist_ok=True)

    from nbgrader.api import Grade, MissingEntry, SubmittedNotebook  # sqlalchemy is slow to import: only for this format
    from nbgrader.api import Gradebook as NbgraderGradebook

    # nbgrader stamps a new gradebook.db with the output of an `alembic heads` subprocess (seconds, and only where
    # the alembic script is on PATH); release.py's helper reads the same revision in this process.
    from grader.release import _alembic_head_in_process

    task_ids = {task for task, _ in scores.tasks}
    with warnings.catch_warnings(), _alembic_head_in_process(), \
            NbgraderGradebook(f"sqlite:///{db_path}", course_id=course_id) as nb:
        # nbgrader's add_submission builds its rows before adding them to the session, which SQLAlchemy 2 reports
        # as "Object of type <SubmittedAssignment> not in session" warnings; the rows are added right after.
        warnings.filterwarnings("ignore", message=r"Object of type <Submitted\w+> not in session")
        nb.update_or_create_assignment(scores.assignment_id)
        notebook = nb.update_or_create_notebook(scores.notebook, scores.assignment_id)
        removed = []
        for cell in list(notebook.grade_cells):
            if cell.name not in task_ids:  # a task renamed or dropped from course.yaml since the last export
                for grade in list(cell.grades):  # through the session, so it does not later touch deleted rows
                    nb.db.delete(grade)
                nb.db.delete(cell)
                removed.append(cell.name)
        nb.db.commit()
        cells = {
            task: nb.update_or_create_grade_cell(task, scores.notebook, scores.assignment_id, max_score=points,
                                                 cell_type="code")
            for task, points in scores.tasks
        }
        for s in scores.students:
            known = roster.get(s.student)
            details = {}
            if known is not None:
                first, last = _split_name(known.name)
                details = {"first_name": first, "last_name": last, "lms_user_id": known.canvas_id or None}
            nb.update_or_create_student(s.student, **details)
            submission = nb.update_or_create_submission(scores.assignment_id, s.student)
            submitted = next((n for n in submission.notebooks if n.name == scores.notebook), None)
            if submitted is None:  # the submission was created for an earlier notebook name
                submitted = SubmittedNotebook(notebook=notebook, assignment=submission)
                nb.db.add(submitted)
            for task, _ in scores.tasks:
                try:
                    grade = nb.find_grade(task, scores.notebook, scores.assignment_id, s.student)
                except MissingEntry:  # the submission was created before this task's cell existed
                    grade = Grade(cell_id=cells[task].id, notebook=submitted)
                    nb.db.add(grade)
                grade.auto_score = s.by_task[task]
                # A failed grading needs a human; a human's manual score stays (and keeps deciding the score).
                grade.needs_manual_grade = s.status == "failed" and grade.manual_score is None
            nb.db.commit()
    return NbgraderSummary(
        assignment=scores.assignment_id, notebook=scores.notebook, students=len(scores.students),
        removed_cells=tuple(removed),
    )


def _split_name(name: str) -> tuple[str | None, str | None]:
    """(first, last) from "Last, First" (Canvas's sortable name) or "First Last"."""
    if not name:
        return None, None
    if "," in name:
        last, first = (part.strip() for part in name.split(",", 1))
        return first or None, last or None
    first, _, last = name.rpartition(" ")
    return (first or None, last or None) if first else (None, last or None)


def _check_nbgrader_file(db_path: Path, our_gradebook: Path) -> None:
    """Refuse to add nbgrader's tables to a file that is not an nbgrader gradebook (ours, above all)."""
    if db_path.resolve() == Path(our_gradebook).resolve():
        raise ExportError(f"--out {db_path} is the class gradebook itself: give nbgrader's gradebook.db instead")
    if not db_path.exists() or db_path.stat().st_size == 0:
        return
    try:
        with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as db:
            tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.DatabaseError as exc:
        raise ExportError(f"{db_path} is not an sqlite file ({exc}): give nbgrader's gradebook.db or a new path") from None
    if tables and "grade_cells" not in tables:
        raise ExportError(
            f"{db_path} is an sqlite file of another program (tables: {', '.join(sorted(tables))}), not an nbgrader "
            "gradebook: give nbgrader's gradebook.db or a new path"
        )


# --------------------------------------------------------------------------------------------- one entry point


def export(gradebook: Gradebook, course: Course, assignment_id: str, fmt: str, out: Path | str, *,
           canvas_map: Path | None = None, canvas_assignment_id: str | None = None) -> list[Path]:
    """Write one format: a CSV file (tasks, canvas), a folder of results.json (gradescope) or an nbgrader db."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}: expected one of {', '.join(FORMATS)}")
    out = Path(out)
    if fmt == "gradescope":
        return write_gradescope(gradebook, course, assignment_id, out)
    if fmt == "nbgrader":
        write_nbgrader(gradebook, course, assignment_id, out, canvas_map=canvas_map)
        return [out]
    if fmt == "tasks":
        text = tasks_csv(gradebook, course, assignment_id)
    else:
        text = canvas_csv(gradebook, course, assignment_id, canvas_map=canvas_map,
                          canvas_assignment_id=canvas_assignment_id)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8", newline="")
    return [out]


# --------------------------------------------------------------------------------------------- command line


def add_export_parser(sub) -> None:
    p = sub.add_parser("export", help="write the gradebook's grades for Canvas, Gradescope, nbgrader or a task CSV")
    p.add_argument("--gradebook", type=Path, required=True, help="the class gradebook (written by grader autograde)")
    p.add_argument("--assignment", required=True, help="assignment id, as in course.yaml")
    p.add_argument("--format", dest="fmt", choices=FORMATS, required=True,
                   help="tasks: CSV of points per task; canvas: CSV for Canvas's gradebook import; "
                        "gradescope: OUT/<student>/results.json; nbgrader: scores into nbgrader's gradebook.db")
    p.add_argument("--out", type=Path, required=True,
                   help="the CSV file (tasks, canvas), a folder (gradescope) or nbgrader's gradebook.db (nbgrader)")
    p.add_argument("--canvas-map", type=Path, default=None,
                   help="roster CSV with header student,canvas_id,name: Canvas user ids and names (canvas, nbgrader)")
    p.add_argument("--canvas-assignment-id", default=None,
                   help="the Canvas assignment's id (from its URL), so the import updates that assignment")
    p.add_argument("--course", type=Path, default=None, help="course.yaml (default: found from the current folder)")
    p.set_defaults(func=cmd_export)


def cmd_export(args: argparse.Namespace) -> int:
    from grader.cli import CommandError  # here, not at the top: grader.cli imports this module
    from grader.course import load_course

    if not args.gradebook.is_file():
        raise CommandError(f"{args.gradebook} does not exist: give the --gradebook that grader autograde wrote")
    if args.canvas_map is not None and not args.canvas_map.is_file():
        raise CommandError(f"{args.canvas_map} does not exist: give a roster CSV with header student,canvas_id,name")
    course = load_course(args.course)
    try:
        with Gradebook(args.gradebook) as gb:
            written = export(gb, course, args.assignment, args.fmt, args.out, canvas_map=args.canvas_map,
                             canvas_assignment_id=args.canvas_assignment_id)
            scores = class_scores(gb, course, args.assignment)
            unmapped = unmapped_students(gb, course, args.assignment, args.canvas_map) if args.canvas_map else []
    except (ExportError, GradebookError) as exc:
        raise CommandError(str(exc)) from None
    where = written[0] if len(written) == 1 else f"{len(written)} files under {args.out}"
    n = len(scores.students)
    print(f"exported {n} student{'' if n == 1 else 's'} of {args.assignment} ({args.fmt}) to {where}")
    if scores.failed:
        blank = " (blank in Canvas: no change there)" if args.fmt == "canvas" else ""
        print(f"grading failed for {len(scores.failed)}: {', '.join(scores.failed)}{blank}; see --format tasks for why")
    if unmapped:
        print(f"not in {args.canvas_map}: {', '.join(unmapped)} (Canvas matches them by SIS Login ID)")
    return 0
