"""Exports of the class gradebook for instructors to upload: a per-task CSV, Canvas, Gradescope and nbgrader.

    with Gradebook(Path("gradebook.sqlite")) as gb:
        export(gb, course, "a00_warmup", "canvas", Path("out/a00_canvas.csv"), canvas_map=Path("roster.csv"))

`grader export --gradebook PATH --assignment ID --format tasks|canvas|gradescope|nbgrader --out PATH` does the same.
Every format is computed from one `ClassScores` (the gradebook's rows for one assignment, grouped by course.yaml
task), so the formats cannot disagree. Students are in sorted order and numbers are rounded to 6 decimals and
printed without float noise (0.1 + 0.2 is written 0.3, 2.0 is written 2).

**tasks** (CSV): student, status (graded/failed), one column per course.yaml task (points earned), total, max,
reason, then raw, days_late, late_penalty_percent, overrides. `total` is the final score, the grade of record: the
gradebook's score of the submission with the instructor's overrides (grader/overrides.py) and the late policy
(grader/deadlines.py) applied; `raw` is what the grader gave. Every format below uses the same final score, and
says what changed it. `max` is the assignment's points in course.yaml.

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
With `nbgrader_course` (`--nbgrader-course DIR`), the formgrader's pages work end to end: our source notebook is
placed in DIR/source/<assignment>/ when none is there (Manage Assignments lists only what it finds there), every
answer cell gets a solution cell whose auto comment is our feedback for that task, and DIR/autograded/<student>/
<assignment>/<notebook>.ipynb is written for each student (see `autograded_notebook`), which the submission page
renders with the points per task. A late penalty becomes nbgrader's own late_submission_penalty (points), the
submission time its timestamp. `import_nbgrader_manual_grades` (`grader override --from-nbgrader DB`) brings the
formgrader's manual scores back as task overrides (grader/overrides.py).
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
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import nbformat

from grader.course import Course
from grader.gradebook import Gradebook, GradebookError
from grader.overrides import AppliedOverride, apply_overrides, test_sources

FORMATS = ("tasks", "canvas", "gradescope", "nbgrader")
# After the original columns, so a spreadsheet reading them by position still works: the grader's score before
# overrides and the late policy, the started days late, the percent taken off, and each override with its reason.
ADJUSTMENT_COLUMNS = ("raw", "days_late", "late_penalty_percent", "overrides")
CANVAS_STUDENT_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
CANVAS_POINTS_POSSIBLE = "Points Possible"
CANVAS_HOW_TO = ("In Canvas, open the assignment: its id is the number at the end of the address "
                 "(/courses/<course>/assignments/<id>); its column name is the title in Grades. Student files "
                 "come from the assignment's 'Download Submissions' (grader autograde ZIP --lms canvas).")
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
    overridden: str = ""  # the instructor's reason when an override set this test's points


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
    # What the grader gave before overrides and the late policy; `total` is the final score, the grade of record.
    raw_total: float | None = None
    overrides: tuple[AppliedOverride, ...] = ()
    lateness: Mapping[str, Any] | None = None  # the gradebook's lateness row, when a due date was set

    @property
    def needs_review(self) -> bool:
        return any(o.needs_review for o in self.overrides)

    def adjustments(self) -> list[str]:
        """One line per thing that made the final score differ from the grader's: overrides, then lateness."""
        lines = [o.describe() for o in self.overrides]
        late = self.lateness
        if late and late["days_late"]:
            lines.append(f"submitted {late['days_late']} day{'s' * (late['days_late'] != 1)} late "
                         f"({late['time_source']}): {late['policy']}, {100 * late['penalty']:g}% off")
        return lines


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
    rows_by_student: dict[str, list[dict[str, Any]]] = {}
    for r in gradebook.results(assignment_id):
        rows_by_student.setdefault(r["student"], []).append(r)
    overrides_by_student: dict[str, list[Any]] = {}
    for o in gradebook.overrides(assignment_id):
        overrides_by_student.setdefault(o.student, []).append(o)
    lateness = gradebook.lateness(assignment_id)
    sources = test_sources(course, assignment_id) if overrides_by_student else {}
    task_ids = [t.id for t in assignment.tasks]
    students = []
    for s in sorted(submissions, key=lambda row: row["student"]):
        rows = rows_by_student.get(s["student"], [])
        by_task = {task: 0.0 for task in task_ids}
        for r in rows:
            if r["task"] in by_task:
                by_task[r["task"]] += float(r["score"])
        raw = float(s["score"])
        rows, by_task, delta, applied = apply_overrides(
            overrides_by_student.get(s["student"], []), tests=rows, by_task=by_task,
            submission_hash=s["submission_hash"], sources=sources)
        late = lateness.get(s["student"])
        final = (raw + delta) * (1.0 - (late["penalty"] if late else 0.0))
        tests = [TestScore(
            test=r["test"], task=r["task"], title=r["title"], visibility=r["visibility"], status=r["status"],
            score=float(r["score"]), max_score=float(r["max_score"]), feedback=r["feedback"],
            overridden=r.get("overridden", ""),
        ) for r in rows]
        students.append(StudentScore(
            student=s["student"], status=s["status"], reason=s["reason"], total=_round(final),
            by_task={k: _round(v) for k, v in by_task.items()}, tests=tuple(tests), problems=tuple(s["problems"]),
            seconds=float(s["seconds"]), submission_hash=s["submission_hash"], grader_version=s["grader_version"],
            raw_total=_round(raw), overrides=tuple(applied), lateness=late,
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
    rows = [["student", "status", *(task for task, _ in scores.tasks), "total", "max", "reason", *ADJUSTMENT_COLUMNS]]
    for s in scores.students:
        late = s.lateness or {}
        rows.append([
            s.student, s.status, *(number(s.by_task[task]) for task, _ in scores.tasks), number(s.total),
            number(scores.max_score), s.reason, number(s.raw_total if s.raw_total is not None else s.total),
            str(late.get("days_late", "")), number(100 * late["penalty"]) if late else "",
            "; ".join(o.describe() for o in s.overrides),
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
               canvas_assignment_id: str | None = None, canvas_title: str | None = None) -> str:
    """A CSV for Canvas's Gradebook > Import: header, Points Possible row, one row per student (see module doc)."""
    scores = class_scores(gradebook, course, assignment_id)
    roster = read_canvas_map(canvas_map) if canvas_map is not None else {}
    rows = [
        [*CANVAS_STUDENT_COLUMNS, canvas_column(canvas_title or scores.title, canvas_assignment_id)],
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
    return {s.student: gradescope_document(scores, s) for s in scores.students}


def gradescope_document(scores: ClassScores, s: StudentScore) -> dict[str, Any]:
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
            "status": "passed" if t.status == "passed" or (t.overridden and t.score >= t.max_score) else "failed",
            "name": t.title,
            "name_format": "text",
            "number": f"{group}.{counters[group]}",
            "output": t.feedback + (f"\n\nPoints set by your instructor: {t.overridden}" if t.overridden else ""),
            "output_format": "text",
            "tags": tags,
            "visibility": GRADESCOPE_VISIBILITY[t.visibility],
            "extra_data": {"test": t.test, "status": t.status},
        })
    if s.status == "failed":
        output = f"This submission could not be graded: {s.reason}"
    else:
        output = f"Score: {number(s.total)} / {number(scores.max_score)}"
    if s.adjustments():
        output += f" (the grader gave {number(s.raw_total)})\n" + "\n".join(f"- {line}" for line in s.adjustments())
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
    notebooks: tuple[Path, ...] = ()  # the autograded notebooks written (with nbgrader_course)


def write_nbgrader(gradebook: Gradebook, course: Course, assignment_id: str, db_path: Path, *,
                   canvas_map: Path | None = None, course_id: str = NBGRADER_COURSE_ID,
                   nbgrader_course: Path | None = None) -> NbgraderSummary:
    """Scores into nbgrader's own gradebook (an sqlite file, created if missing) through nbgrader.api; with
    `nbgrader_course`, also the autograded notebooks and per-task comments the formgrader shows (module doc)."""
    scores = class_scores(gradebook, course, assignment_id)
    paths = dict(zip((s.student for s in scores.students), _submission_paths(gradebook, scores)))
    autograded = {s.student: autograded_notebook(course, assignment_id, s, paths[s.student])
                  for s in scores.students} if nbgrader_course else {}
    if nbgrader_course:
        _place_nbgrader_source(course, assignment_id, Path(nbgrader_course))
    answer_cells = sorted({c.metadata["nbgrader"]["grade_id"] for nb in autograded.values() for c in nb.cells
                           if c.metadata.get("nbgrader", {}).get("solution")})
    roster = read_canvas_map(canvas_map) if canvas_map is not None else {}
    db_path = Path(db_path)
    _check_nbgrader_file(db_path, gradebook.path)
    db_path.parent.mkdir(parents=True, exist_ok=True)

    from nbgrader.api import Comment, Grade, MissingEntry, SubmittedNotebook  # sqlalchemy is slow to import: only here
    from nbgrader.api import Gradebook as NbgraderGradebook

    # nbgrader stamps a new gradebook.db with the output of an `alembic heads` subprocess (seconds, and only where
    # the alembic script is on PATH); release.py's helper reads the same revision in this process.
    from grader.release import _alembic_head_in_process

    names = grade_cell_names(course, assignment_id)  # task -> its grade cell's grade_id in the release
    with warnings.catch_warnings(), _alembic_head_in_process(), \
            NbgraderGradebook(f"sqlite:///{db_path}", course_id=course_id) as nb:
        # nbgrader's add_submission builds its rows before adding them to the session, which SQLAlchemy 2 reports
        # as "Object of type <SubmittedAssignment> not in session" warnings; the rows are added right after.
        warnings.filterwarnings("ignore", message=r"Object of type <Submitted\w+> not in session")
        dues = {late["due"] for s in scores.students if s.lateness for late in [s.lateness]}
        # nbgrader shows the due date in Manage Assignments and computes its own lateness from it.
        due = ({"duedate": datetime.fromtimestamp(dues.pop(), tz=timezone.utc).replace(tzinfo=None)}
               if len(dues) == 1 else {})
        nb.update_or_create_assignment(scores.assignment_id, **due)
        notebook = nb.update_or_create_notebook(scores.notebook, scores.assignment_id)
        removed = []
        written: list[Path] = []
        for cell in list(notebook.grade_cells):
            if cell.name not in names.values():  # a task renamed or dropped from course.yaml since the last export
                for grade in list(cell.grades):  # through the session, so it does not later touch deleted rows
                    nb.db.delete(grade)
                nb.db.delete(cell)
                removed.append(cell.name)
        nb.db.commit()
        cells = {
            task: nb.update_or_create_grade_cell(names[task], scores.notebook, scores.assignment_id, max_score=points,
                                                 cell_type="code")
            for task, points in scores.tasks
        }
        # Every answer cell of the autograded notebooks: the formgrader looks up a comment for each one.
        solution_cells = {name: nb.update_or_create_solution_cell(name, scores.notebook, scores.assignment_id)
                          for name in answer_cells}
        nb.db.commit()
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
                    grade = nb.find_grade(names[task], scores.notebook, scores.assignment_id, s.student)
                except MissingEntry:  # the submission was created before this task's cell existed
                    grade = Grade(cell_id=cells[task].id, notebook=submitted)
                    nb.db.add(grade)
                grade.auto_score = s.by_task[task]
                # A failed grading needs a human; a human's manual score stays (and keeps deciding the score).
                grade.needs_manual_grade = s.status == "failed" and grade.manual_score is None
            feedback = task_feedback(s)
            for name, cell in solution_cells.items():
                try:
                    comment = nb.find_comment(name, scores.notebook, scores.assignment_id, s.student)
                except MissingEntry:
                    comment = Comment(cell_id=cell.id, notebook=submitted)
                    nb.db.add(comment)
                comment.auto_comment = feedback.get(name) or None  # a grader's manual comment is never touched
            late = s.lateness or {}
            if late.get("submitted_at") is not None:
                submission.timestamp = datetime.fromtimestamp(late["submitted_at"], tz=timezone.utc).replace(tzinfo=None)
            # nbgrader subtracts the notebook's late penalty (in points) from its score, as our late policy does.
            penalty = late.get("penalty")
            submitted.late_submission_penalty = _round(sum(s.by_task.values()) * penalty) if penalty else None
            nb.db.commit()
            if s.student in autograded:
                _place_nbgrader_submission(Path(nbgrader_course), scores, s, paths.get(s.student))
                # _safe_name: a student id never climbs out of the course folder (ids come from file names)
                target = (Path(nbgrader_course) / "autograded" / _safe_name(s.student) / scores.assignment_id
                          / f"{scores.notebook}.ipynb")
                target.parent.mkdir(parents=True, exist_ok=True)
                nbformat.write(autograded[s.student], str(target))
                written.append(target)
    return NbgraderSummary(
        assignment=scores.assignment_id, notebook=scores.notebook, students=len(scores.students),
        removed_cells=tuple(removed), notebooks=tuple(written),
    )


def _place_nbgrader_source(course: Course, assignment_id: str, nbgrader_course: Path) -> None:
    """Our source notebook as nbgrader's source/<assignment>/: the formgrader's Manage Assignments lists only the
    assignments found there. An instructor's own file already in place is left as it is."""
    notebook = course.root / course.assignment(assignment_id).notebook
    target = nbgrader_course / "source" / assignment_id / notebook.name
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(notebook.read_bytes())


def _place_nbgrader_submission(nbgrader_course: Path, scores: ClassScores, s: StudentScore, path: Path | None) -> None:
    """The student's notebook in nbgrader's submitted/<student>/<assignment>/ (with timestamp.txt) when it is not
    there yet, as for a class collected from an LMS: Manage Assignments counts the submissions found there, and
    `nbgrader autograde` could run on them. A folder nbgrader collected is left as it is."""
    folder = nbgrader_course / "submitted" / _safe_name(s.student) / scores.assignment_id
    if folder.exists() or path is None or path.suffix != ".ipynb" or not path.is_file():
        return
    folder.mkdir(parents=True)
    (folder / f"{scores.notebook}.ipynb").write_bytes(path.read_bytes())
    late = s.lateness or {}
    if late.get("submitted_at") is not None:  # nbgrader's own format, read back by grader/autograde.py too
        when = datetime.fromtimestamp(late["submitted_at"], tz=timezone.utc)
        (folder / "timestamp.txt").write_text(when.strftime("%Y-%m-%d %H:%M:%S.%f UTC"), encoding="utf-8")


MANUAL_GRADE_REASON = "graded by hand in nbgrader's formgrader"


def import_nbgrader_manual_grades(gradebook: Gradebook, course: Course, assignment_id: str, db_path: Path, *,
                                  course_id: str = NBGRADER_COURSE_ID) -> list[Any]:
    """Every manual score a grader gave in the formgrader, as a task override in our gradebook (with the grader's
    comment as part of the reason), so that the final score, the reports and every export carry it."""
    from nbgrader.api import Gradebook as NbgraderGradebook

    from grader.overrides import set_override

    if not Path(db_path).is_file():
        raise ExportError(f"{db_path} does not exist: give the nbgrader course's gradebook.db")
    _check_nbgrader_file(Path(db_path), gradebook.path)
    notebook = Path(course.assignment(assignment_id).notebook).stem
    task_of = {cell: task for task, cell in grade_cell_names(course, assignment_id).items()}
    graded = {s["student"] for s in gradebook.submissions(assignment_id)}
    manual = []
    with NbgraderGradebook(f"sqlite:///{db_path}", course_id=course_id) as nb:
        for submission in nb.assignment_submissions(assignment_id):
            student = submission.student.id
            for grade in next((n.grades for n in submission.notebooks if n.name == notebook), []):
                if grade.manual_score is None or grade.cell.name not in task_of or student not in graded:
                    continue
                comments = [c.manual_comment for n in submission.notebooks for c in n.comments
                            if c.cell.name == grade.cell.name and c.manual_comment]
                manual.append((student, task_of[grade.cell.name], float(grade.manual_score),
                               MANUAL_GRADE_REASON + (f": {comments[0]}" if comments else "")))
    return [set_override(gradebook, course, assignment_id, student, kind="task", target=task, points=points,
                         reason=reason) for student, task, points, reason in manual]


def _submission_paths(gradebook: Gradebook, scores: ClassScores) -> list[Path | None]:
    paths = {row["student"]: row["path"] for row in gradebook.submissions(scores.assignment_id)}
    return [Path(paths[s.student]) if paths.get(s.student) else None for s in scores.students]


def task_feedback(s: StudentScore) -> dict[str, str]:
    """Per task, what the student should read: each test's verdict and our feedback, then overrides and lateness."""
    out: dict[str, list[str]] = {}
    for t in s.tests:
        line = f"{'passed' if t.status == 'passed' else t.status}: {t.title} ({number(t.score)}/{number(t.max_score)})"
        if t.feedback:
            line += f"\n  {t.feedback}"
        if t.overridden:
            line += f"\n  points set by the instructor: {t.overridden}"
        out.setdefault(t.task or "", []).append(line)
    for o in s.overrides:
        if o.kind == "task":
            out.setdefault(o.target, []).append(o.describe())
    if s.status == "failed":
        for task in s.by_task:
            out.setdefault(task, []).append(f"not graded: {s.reason}")
    return {task: "\n".join(lines) for task, lines in out.items()}


NBGRADER_FEEDBACK_CELL = "{task}-autograder"


def grade_cell_names(course: Course, assignment_id: str) -> dict[str, str]:
    """task -> the grade_id of its nbgrader grade cell: the release's `check("task", strict=True)` cell
    (grader/grade_cells.py), else (a release built before grade cells) the task's own id."""
    from grader.grade_cells import grade_cell_tasks

    assignment = course.assignment(assignment_id)
    release = course.root / "assignments" / assignment_id / Path(assignment.notebook).name
    found = {task: cell for cell, task in (grade_cell_tasks(release) if release.is_file() else {}).items()}
    return {t.id: found.get(t.id, t.id) for t in assignment.tasks}


def autograded_notebook(course: Course, assignment_id: str, s: StudentScore, path: Path | None):
    """The notebook the formgrader shows for one submission: the student's notebook (or the release, when the
    submission was a .py file or unreadable), with each task's grade cell carrying our feedback as its output.

    nbgrader's GetGrades (the formgrader's submission view) looks up a grade for every `grade` cell and a comment for
    every `solution` cell by grade_id, so: the release's grade cell of a task (its `check("task", strict=True)` cell,
    grader/grade_cells.py; before releases had them, the answer cell named like the task) is that task's grade cell;
    a task whose cell the submission lacks gets a locked grade cell of that name added at the end.
    """
    assignment = course.assignment(assignment_id)
    release = course.root / "assignments" / assignment_id / Path(assignment.notebook).name
    note = ""
    notebook = None
    if path is not None and path.suffix == ".ipynb" and path.is_file():
        try:
            notebook = nbformat.read(str(path), as_version=4)
        except Exception as exc:  # the student's file: anything can be wrong with it
            note = f"The submitted notebook could not be read ({type(exc).__name__}); shown: the release."
    elif path is not None and path.suffix == ".ipynb":
        note = f"The submitted notebook is no longer at {path}; shown: the release, with the autograder's feedback."
    elif path is not None:
        note = f"The submission was {path.name}, not a notebook; shown: the release, with the autograder's feedback."
    if notebook is None:
        notebook = nbformat.read(str(release), as_version=4)
    feedback = task_feedback(s)
    points = {t.id: float(t.points) for t in assignment.tasks}
    names = grade_cell_names(course, assignment_id)
    task_of = {cell: task for task, cell in names.items()}
    answers = {c.metadata["nbgrader"]["grade_id"] for c in nbformat.read(str(release), as_version=4).cells
               if c.metadata.get("nbgrader", {}).get("solution")}
    present: set[str] = set()
    seen: set[str] = set()
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader")
        if not meta:
            continue
        name = meta.get("grade_id")
        if not isinstance(name, str) or name in seen:  # the formgrader would fail on it: show it as plain text
            del cell.metadata["nbgrader"]
            continue
        seen.add(name)
        # Only the release's answer cells are answers: a student cannot add cells to nbgrader's database.
        meta["solution"] = name in answers
        meta["grade"] = name in task_of and cell.cell_type == "code"
        if meta["grade"]:
            meta["points"] = points[task_of[name]]
            present.add(task_of[name])
        else:
            meta.pop("points", None)
    for task, top in points.items():
        if task not in present:
            cell = nbformat.v4.new_code_cell(f"# {task}: graded by the autograder (see its comment)")
            cell.metadata["nbgrader"] = {"grade": True, "solution": False, "locked": True, "grade_id": names[task],
                                         "points": top, "schema_version": 3}
            notebook.cells.append(cell)
    for cell in notebook.cells:  # our feedback, next to the task's answer, readable in the formgrader's page
        task = task_of.get(cell.metadata.get("nbgrader", {}).get("grade_id"))
        if cell.metadata.get("nbgrader", {}).get("grade") and feedback.get(task):
            cell.setdefault("outputs", []).append(nbformat.v4.new_output(
                "stream", name="stdout", text=f"[autograder] {task}:\n{feedback[task]}\n"))
    if note:
        notebook.cells.insert(0, nbformat.v4.new_markdown_cell(note))
    notebook.nbformat_minor = max(notebook.nbformat_minor, 5)  # cell ids exist from 4.5 on
    for i, cell in enumerate(notebook.cells):
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", str(cell.get("id", ""))):
            cell["id"] = f"cell-{i}"
    return notebook


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
           canvas_map: Path | None = None, canvas_assignment_id: str | None = None,
           nbgrader_course: Path | None = None, canvas_title: str | None = None) -> list[Path]:
    """Write one format: a CSV file (tasks, canvas), a folder of results.json (gradescope) or an nbgrader db."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}: expected one of {', '.join(FORMATS)}")
    out = Path(out)
    if fmt == "gradescope":
        return write_gradescope(gradebook, course, assignment_id, out)
    if fmt == "nbgrader":
        summary = write_nbgrader(gradebook, course, assignment_id, out, canvas_map=canvas_map,
                                 nbgrader_course=nbgrader_course)
        return [out, *summary.notebooks]
    if fmt == "tasks":
        text = tasks_csv(gradebook, course, assignment_id)
    else:
        text = canvas_csv(gradebook, course, assignment_id, canvas_map=canvas_map,
                          canvas_assignment_id=canvas_assignment_id, canvas_title=canvas_title)
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
    p.add_argument("--canvas-column", default=None,
                   help="canvas: the assignment's column name exactly as in Canvas's gradebook (or give its id)")
    p.add_argument("--nbgrader-course", type=Path, default=None,
                   help="nbgrader: the nbgrader course folder; writes autograded/<student>/<assignment>/ notebooks with "
                        "our feedback, and per-task comments, for the formgrader's submission pages")
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
    if args.fmt == "canvas" and not (args.canvas_assignment_id or getattr(args, "canvas_column", None)):
        # Canvas matches the column by id, else by exact title, and makes a new assignment for any other title.
        raise CommandError(
            "Canvas needs to know which assignment these grades are for: give --canvas-assignment-id ID or "
            f"--canvas-column 'NAME' (exactly as in Canvas's gradebook). {CANVAS_HOW_TO}"
        )
    try:
        with Gradebook(args.gradebook) as gb:
            written = export(gb, course, args.assignment, args.fmt, args.out, canvas_map=args.canvas_map,
                             canvas_assignment_id=args.canvas_assignment_id,
                             nbgrader_course=getattr(args, "nbgrader_course", None),
                             canvas_title=getattr(args, "canvas_column", None))
            scores = class_scores(gb, course, args.assignment)
            unmapped = unmapped_students(gb, course, args.assignment, args.canvas_map) if args.canvas_map else []
    except (ExportError, GradebookError) as exc:
        raise CommandError(str(exc)) from None
    where = written[0] if len(written) == 1 else f"{len(written)} files under {args.out}"
    if args.fmt == "nbgrader" and len(written) > 1:
        where = f"{written[0]} and {len(written) - 1} autograded notebooks under {args.nbgrader_course}"
    n = len(scores.students)
    print(f"exported {n} student{'' if n == 1 else 's'} of {args.assignment} ({args.fmt}) to {where}")
    if scores.failed:
        blank = " (blank in Canvas: no change there)" if args.fmt == "canvas" else ""
        print(f"grading failed for {len(scores.failed)}: {', '.join(scores.failed)}{blank}; see --format tasks for why")
    if unmapped:
        print(f"not in {args.canvas_map}: {', '.join(unmapped)} (Canvas matches them by SIS Login ID)")
    return 0
