"""The class gradebook: one SQLite file (WAL) with every submission's score and every test's verdict.

    with Gradebook(Path("gradebook.sqlite")) as gb:
        gb.needs_grading("a01_fundamentals", "alice", digest, version)   # False when unchanged since last graded
        gb.record(SubmissionRecord(...), tests=[TestRecord(...), ...])   # one transaction: all or nothing
        gb.submissions("a01_fundamentals"); gb.results("a01_fundamentals")

Why it survives `kill -9` and concurrent runs:
- each submission's row and all its test rows are written in one `BEGIN IMMEDIATE` transaction that first deletes
  the previous rows of that (assignment, student): a run killed at any moment leaves either the old grade or the new
  one, never a mix, and a regrade replaces rather than adds (primary keys forbid counting anything twice);
- WAL journaling lets readers (exports, reports) read while a run writes; `busy_timeout` makes a second run that
  writes at the same moment wait for the lock instead of failing;
- only the coordinating process writes; grading processes return plain data to it.
"""
from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS submissions (
    assignment      TEXT NOT NULL,
    student         TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('graded', 'failed')),
    score           REAL NOT NULL,
    max_score       REAL NOT NULL,
    reason          TEXT NOT NULL DEFAULT '',      -- why grading failed, or '' when graded
    problems        TEXT NOT NULL DEFAULT '[]',    -- JSON list of what the student should fix
    submission_hash TEXT NOT NULL,
    grader_version  TEXT NOT NULL,
    path            TEXT NOT NULL,
    output          TEXT NOT NULL DEFAULT '',      -- what the student's code printed (capped by the sandbox)
    isolation       TEXT NOT NULL DEFAULT '{}',    -- JSON: how the worker was isolated
    started_at      REAL NOT NULL,                 -- unix time
    finished_at     REAL NOT NULL,
    seconds         REAL NOT NULL,
    PRIMARY KEY (assignment, student)
);
CREATE TABLE IF NOT EXISTS results (
    assignment  TEXT NOT NULL,
    student     TEXT NOT NULL,
    test        TEXT NOT NULL,
    task        TEXT,
    title       TEXT NOT NULL,
    visibility  TEXT NOT NULL CHECK (visibility IN ('public', 'hidden')),
    status      TEXT NOT NULL,
    score       REAL NOT NULL,
    max_score   REAL NOT NULL,
    feedback    TEXT NOT NULL,
    seconds     REAL NOT NULL,
    grader_error INTEGER NOT NULL DEFAULT 0,       -- 1: the grader itself failed on this test (never the feedback text)
    PRIMARY KEY (assignment, student, test),
    FOREIGN KEY (assignment, student) REFERENCES submissions (assignment, student) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS results_by_task ON results (assignment, task);
CREATE TABLE IF NOT EXISTS figures (
    assignment  TEXT NOT NULL,
    student     TEXT NOT NULL,
    name        TEXT NOT NULL,                     -- the figure's caption, e.g. "your attention heatmap"
    test        TEXT NOT NULL DEFAULT '',          -- the test that drew it
    png         BLOB NOT NULL,
    PRIMARY KEY (assignment, student, name),
    FOREIGN KEY (assignment, student) REFERENCES submissions (assignment, student) ON DELETE CASCADE
);
-- Instructors' hand corrections. No foreign key on purpose: a regrade replaces the submission's rows, and an
-- override must outlive that (grader/overrides.py flags it for review when what it overrode changed).
CREATE TABLE IF NOT EXISTS overrides (
    assignment      TEXT NOT NULL,
    student         TEXT NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('test', 'task')),
    target          TEXT NOT NULL,                 -- the test's name or the course.yaml task id
    points          REAL NOT NULL,
    reason          TEXT NOT NULL,
    author          TEXT NOT NULL DEFAULT '',
    created_at      REAL NOT NULL,
    submission_hash TEXT NOT NULL DEFAULT '',      -- the submission it was given for
    fingerprint     TEXT NOT NULL DEFAULT '',      -- the overridden test(s) at that time
    PRIMARY KEY (assignment, student, kind, target)
);
-- When each submission was handed in and what the late policy made of it (grader/deadlines.py); kept apart from
-- the grade so the raw score stays what the grader gave.
CREATE TABLE IF NOT EXISTS lateness (
    assignment   TEXT NOT NULL,
    student      TEXT NOT NULL,
    submitted_at REAL,                             -- unix time, NULL when nothing recorded it
    time_source  TEXT NOT NULL DEFAULT '',         -- nbgrader timestamp.txt, Gradescope created_at, file time, ...
    due          REAL NOT NULL,
    seconds_late REAL NOT NULL,
    days_late    INTEGER NOT NULL,
    penalty      REAL NOT NULL,                    -- fraction of the earned score taken off, 0..1
    policy       TEXT NOT NULL,
    PRIMARY KEY (assignment, student)
);
"""


class GradebookError(Exception):
    """The gradebook file cannot be used (another program's file, a newer schema, ...); the message says why."""


@dataclass
class TestRecord:
    test: str
    task: str | None
    title: str
    visibility: str
    status: str
    score: float
    max_score: float
    feedback: str
    seconds: float = 0.0
    grader_error: bool = False  # the grader itself failed: a stored flag, so feedback text cannot fake or hide it


@dataclass
class FigureRecord:
    """A PNG the grader drew in the trusted process (from plain data the student's code returned)."""

    name: str
    png: bytes
    test: str = ""


@dataclass
class SubmissionRecord:
    assignment: str
    student: str
    status: str  # graded | failed
    score: float
    max_score: float
    submission_hash: str
    grader_version: str
    path: str
    started_at: float
    finished_at: float
    reason: str = ""
    problems: list[str] = field(default_factory=list)
    output: str = ""
    isolation: dict[str, Any] = field(default_factory=dict)

    @property
    def seconds(self) -> float:
        return max(0.0, self.finished_at - self.started_at)


class Gradebook:
    """A gradebook file; open it with `with Gradebook(path) as gb:` (created on first use)."""

    def __init__(self, path: Path, timeout_s: float = 60.0) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.db = sqlite3.connect(str(self.path), timeout=timeout_s, isolation_level=None)
            self.db.row_factory = sqlite3.Row
            self.db.execute(f"PRAGMA busy_timeout = {int(timeout_s * 1000)}")
            self.db.execute("PRAGMA journal_mode = WAL")
            self.db.execute("PRAGMA synchronous = FULL")  # a finished grade survives a power cut, not only kill -9
            self.db.execute("PRAGMA foreign_keys = ON")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise GradebookError(f"{self.path} is not a usable gradebook ({exc}); give another --gradebook path") from None

    def _migrate(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            for statement in _statements(SCHEMA):  # executescript would commit the open transaction first
                self.db.execute(statement)
            columns = {r["name"] for r in self.db.execute("PRAGMA table_info(results)")}
            if "grader_error" not in columns:  # a gradebook written before the flag existed
                self.db.execute("ALTER TABLE results ADD COLUMN grader_error INTEGER NOT NULL DEFAULT 0")
            row = self.db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            if row is None:
                self.db.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
            elif int(row["value"]) > SCHEMA_VERSION:
                raise GradebookError(f"{self.path} was written by a newer grader (schema {row['value']}); upgrade the grader")
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Gradebook:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------------------------------------ writing
    def record(self, submission: SubmissionRecord, tests: Iterable[TestRecord],
               figures: Iterable[FigureRecord] = ()) -> None:
        """Replace the grade of (assignment, student) with this one, atomically."""
        tests, figures = list(tests), list(figures)
        s = submission
        self.db.execute("BEGIN IMMEDIATE")
        try:
            self.db.execute("DELETE FROM figures WHERE assignment = ? AND student = ?", (s.assignment, s.student))
            self.db.execute("DELETE FROM results WHERE assignment = ? AND student = ?", (s.assignment, s.student))
            self.db.execute("DELETE FROM submissions WHERE assignment = ? AND student = ?", (s.assignment, s.student))
            self.db.execute(
                "INSERT INTO submissions (assignment, student, status, score, max_score, reason, problems, submission_hash,"
                " grader_version, path, output, isolation, started_at, finished_at, seconds)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (s.assignment, s.student, s.status, s.score, s.max_score, s.reason, json.dumps(s.problems),
                 s.submission_hash, s.grader_version, s.path, s.output, json.dumps(s.isolation), s.started_at,
                 s.finished_at, s.seconds),
            )
            self.db.executemany(
                "INSERT INTO results (assignment, student, test, task, title, visibility, status, score, max_score,"
                " feedback, seconds, grader_error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(s.assignment, s.student, t.test, t.task, t.title, t.visibility, t.status, t.score, t.max_score,
                  t.feedback, t.seconds, int(bool(t.grader_error))) for t in tests],
            )
            self.db.executemany(
                "INSERT INTO figures (assignment, student, name, test, png) VALUES (?, ?, ?, ?, ?)",
                [(s.assignment, s.student, f.name, f.test, f.png) for f in figures],
            )
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    # ------------------------------------------------------------------------------------------------ reading
    def needs_grading(self, assignment: str, student: str, submission_hash: str, grader_version: str) -> bool:
        """False when this exact submission was already graded by this exact grader."""
        row = self.db.execute(
            "SELECT submission_hash, grader_version FROM submissions WHERE assignment = ? AND student = ?",
            (assignment, student),
        ).fetchone()
        return row is None or (row["submission_hash"], row["grader_version"]) != (submission_hash, grader_version)

    def submissions(self, assignment: str | None = None) -> list[dict[str, Any]]:
        """Every submission row (problems and isolation decoded), ordered by assignment and student."""
        where, args = ("WHERE assignment = ?", (assignment,)) if assignment else ("", ())
        rows = self.db.execute(f"SELECT * FROM submissions {where} ORDER BY assignment, student", args).fetchall()
        out = []
        for row in rows:
            d = dict(row)
            d["problems"] = json.loads(d["problems"])
            d["isolation"] = json.loads(d["isolation"])
            out.append(d)
        return out

    def results(self, assignment: str | None = None, student: str | None = None) -> list[dict[str, Any]]:
        """Every test verdict joined with its submission's hash, grader version and time, in a stable order."""
        clauses, args = [], []
        if assignment:
            clauses.append("r.assignment = ?")
            args.append(assignment)
        if student:
            clauses.append("r.student = ?")
            args.append(student)
        where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
        rows = self.db.execute(
            "SELECT r.*, s.submission_hash, s.grader_version, s.finished_at AS graded_at FROM results r"
            " JOIN submissions s USING (assignment, student)"
            f" {where} ORDER BY r.assignment, r.student, r.rowid",
            args,
        ).fetchall()
        return [dict(r) for r in rows]

    def figures(self, assignment: str, student: str) -> list[FigureRecord]:
        rows = self.db.execute(
            "SELECT name, test, png FROM figures WHERE assignment = ? AND student = ? ORDER BY rowid", (assignment, student)
        ).fetchall()
        return [FigureRecord(r["name"], bytes(r["png"]), r["test"]) for r in rows]

    # ------------------------------------------------------------------------------------------------ overrides
    def set_override(self, override: OverrideRecord) -> None:
        """Add or replace the override of (assignment, student, kind, target)."""
        o = override
        with self._transaction():
            self.db.execute(
                "INSERT OR REPLACE INTO overrides (assignment, student, kind, target, points, reason, author,"
                " created_at, submission_hash, fingerprint) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (o.assignment, o.student, o.kind, o.target, o.points, o.reason, o.author, o.created_at,
                 o.submission_hash, o.fingerprint),
            )

    def remove_override(self, assignment: str, student: str, kind: str, target: str) -> bool:
        with self._transaction():
            cursor = self.db.execute(
                "DELETE FROM overrides WHERE assignment = ? AND student = ? AND kind = ? AND target = ?",
                (assignment, student, kind, target))
        return cursor.rowcount > 0

    def overrides(self, assignment: str | None = None, student: str | None = None) -> list[OverrideRecord]:
        clauses, args = [], []
        for column, value in (("assignment", assignment), ("student", student)):
            if value is not None:
                clauses.append(f"{column} = ?")
                args.append(value)
        where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
        rows = self.db.execute(f"SELECT * FROM overrides {where} ORDER BY assignment, student, kind, target", args)
        return [OverrideRecord(**dict(r)) for r in rows.fetchall()]

    # ------------------------------------------------------------------------------------------------ lateness
    def set_lateness(self, assignment: str, student: str, lateness: Any) -> None:
        """Record a `grader.deadlines.Lateness` for the submission (replacing the previous one)."""
        x = lateness
        with self._transaction():
            self.db.execute(
                "INSERT OR REPLACE INTO lateness (assignment, student, submitted_at, time_source, due, seconds_late,"
                " days_late, penalty, policy) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (assignment, student, x.submitted_at, x.time_source, x.due, x.seconds_late, x.days_late, x.penalty,
                 x.policy),
            )

    def lateness(self, assignment: str) -> dict[str, dict[str, Any]]:
        """student -> their lateness row, for one assignment."""
        rows = self.db.execute("SELECT * FROM lateness WHERE assignment = ?", (assignment,)).fetchall()
        return {r["student"]: dict(r) for r in rows}

    def _transaction(self):
        return _Transaction(self.db)

    def integrity(self) -> str:
        return self.db.execute("PRAGMA integrity_check").fetchone()[0]


@dataclass
class OverrideRecord:
    """An instructor's points for one test or one task of one student's submission, with the reason."""

    assignment: str
    student: str
    kind: str  # test | task
    target: str
    points: float
    reason: str
    created_at: float
    author: str = ""
    submission_hash: str = ""
    fingerprint: str = ""


class _Transaction:
    """`BEGIN IMMEDIATE` ... `COMMIT`, rolled back on any error (the connection runs in autocommit mode)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind, *rest) -> None:
        self.db.execute("ROLLBACK" if kind else "COMMIT")


def _statements(script: str) -> list[str]:
    lines = [line.split("--")[0] for line in script.splitlines()]
    return [stmt.strip() for stmt in "\n".join(lines).split(";") if stmt.strip()]


def records_from_report(report: dict[str, Any], *, submission_hash: str, grader_version: str, path: str,
                        started_at: float, finished_at: float) -> tuple[SubmissionRecord, list[TestRecord]]:
    """A `GradeReport.to_dict()` as gradebook rows."""
    tests = [
        TestRecord(test=name, task=t.get("task"), title=t["title"], visibility=t["visibility"], status=t["status"],
                   score=float(t["points"]), max_score=float(t["max_points"]), feedback=t["feedback"],
                   seconds=float(t.get("seconds", 0.0)), grader_error=bool(t.get("grader_error", False)))
        for name, t in report["tests"].items()
    ]
    submission = SubmissionRecord(
        assignment=report["assignment"], student=report["student"], status="graded", score=float(report["score"]),
        max_score=float(report["max_score"]), submission_hash=submission_hash, grader_version=grader_version,
        path=path, started_at=started_at, finished_at=finished_at, problems=list(report.get("problems", [])),
        output=report.get("output", "")[:65536], isolation=report.get("isolation", {}),
    )
    return submission, tests


def failed_record(assignment: str, student: str, reason: str, *, max_score: float, submission_hash: str,
                  grader_version: str, path: str, started_at: float) -> SubmissionRecord:
    """A submission that could not be graded at all: 0 points and the reason, so the run goes on."""
    return SubmissionRecord(
        assignment=assignment, student=student, status="failed", score=0.0, max_score=max_score,
        submission_hash=submission_hash, grader_version=grader_version, path=path, started_at=started_at,
        finished_at=time.time(), reason=reason[:4000],
    )


def as_dict(record: SubmissionRecord | TestRecord) -> dict[str, Any]:
    return asdict(record)
