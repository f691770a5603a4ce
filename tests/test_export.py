"""Do the gradebook's exports (task CSV, Canvas, Gradescope, nbgrader) carry every student's grade, field by field?"""
from __future__ import annotations

import argparse
import copy
import csv
import io
import json
import os
import shutil
import sqlite3
from pathlib import Path

import jsonschema
import pytest

from grader.export import (
    CANVAS_POINTS_POSSIBLE,
    CANVAS_STUDENT_COLUMNS,
    ExportError,
    add_export_parser,
    canvas_csv,
    class_scores,
    export,
    gradescope_results,
    number,
    tasks_csv,
    write_gradescope,
    write_nbgrader,
)
from grader.gradebook import FigureRecord, Gradebook, SubmissionRecord, failed_record
from grader.gradebook import TestRecord as Verdict  # not "Test...": pytest would try to collect it
from tests.conftest import SMALL_ASSIGNMENT, SMALL_OTHER, small_course

ROOT = Path(__file__).resolve().parent.parent
COURSE = small_course()  # not course.yaml: the numbers below stay what they are when a real assignment changes
SCHEMA = json.loads((ROOT / "tests/data/export/gradescope_results.schema.json").read_text())
A = SMALL_ASSIGNMENT  # tasks sigmoid (2 points), relu (1), softmax (3)
TITLE = COURSE.assignment(A).title
OTHER = SMALL_OTHER  # an assignment nobody in these tests submitted
RELEASE = COURSE.root / "assignments" / A / f"{A}.ipynb"
WRONG_AXIS = "`softmax(x)` is wrong: it looks like a softmax over the wrong axis."


def verdict(name: str, task: str | None, score: float, max_score: float, *, hidden: bool = False,
         status: str | None = None, feedback: str = "") -> Verdict:
    return Verdict(test=name, task=task, title=f"the {name.replace('_', ' ')}", status=status or (
        "passed" if score == max_score else "failed"), visibility="hidden" if hidden else "public", score=score,
        max_score=max_score, feedback=feedback, seconds=0.01)


def full_marks() -> list[Verdict]:
    return [
        verdict("sigmoid_values", "sigmoid", 1, 1),
        verdict("sigmoid_is_stable", "sigmoid", 1, 1, hidden=True),
        verdict("relu_values", "relu", 1, 1),
        verdict("softmax_rows_sum_to_one", "softmax", 1, 1),
        verdict("softmax_over_the_last_axis", "softmax", 2, 2, hidden=True),
    ]


def record(gb: Gradebook, student: str, tests: list[Verdict], *, problems: tuple[str, ...] = ()) -> None:
    gb.record(SubmissionRecord(
        assignment=A, student=student, status="graded", score=sum(t.score for t in tests),
        max_score=sum(t.max_score for t in tests), submission_hash=f"hash-{student}", grader_version="v1",
        path=f"subs/{student}.ipynb", started_at=1000.0, finished_at=1002.5, problems=list(problems),
    ), tests, [FigureRecord(name="your sigmoid", png=b"\x89PNG", test="sigmoid_values")])


@pytest.fixture
def gradebook(tmp_path):
    """Four students: alice full marks, bob a softmax over the wrong axis, carol partial credit and a timeout,
    dave's notebook could not be graded at all. Recorded out of order, to check the exports sort."""
    with Gradebook(tmp_path / "gradebook.sqlite") as gb:
        bob = full_marks()
        bob[4] = verdict("softmax_over_the_last_axis", "softmax", 0, 2, hidden=True, feedback=WRONG_AXIS)
        record(gb, "bob", bob)
        carol = [
            verdict("sigmoid_values", "sigmoid", 0.1, 1, feedback="partly right"),
            verdict("sigmoid_is_stable", "sigmoid", 0.2, 1, hidden=True, feedback="overflows for x = -1000"),
            verdict("relu_values", "relu", 0, 1, status="timeout", feedback="`relu(X)` ran past 10 s"),
            verdict("softmax_rows_sum_to_one", "softmax", 1, 1),
            verdict("softmax_over_the_last_axis", "softmax", 2, 2, hidden=True),
        ]
        record(gb, "carol", carol, problems=("cell 'relu' prints inside a loop",))
        gb.record(failed_record(A, "dave", "the notebook is not valid JSON (line 3)", max_score=6,
                                submission_hash="hash-dave", grader_version="v1", path="subs/dave.ipynb",
                                started_at=1000.0), [])
        record(gb, "alice", full_marks())
        yield gb


def parse_csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


# ------------------------------------------------------------------------------------------------ numbers


@pytest.mark.parametrize(("value", "text"), [
    (2.0, "2"), (1.5, "1.5"), (0.1 + 0.2, "0.3"), (-0.0, "0"), (1e-9, "0"), (2 / 3, "0.666667"), (100, "100"),
])
def test_numbers_are_written_without_float_noise(value, text):
    assert number(value) == text


# ------------------------------------------------------------------------------------------------ tasks CSV


def test_the_task_csv_has_one_column_per_course_task_and_one_sorted_row_per_student(gradebook):
    rows = parse_csv(tasks_csv(gradebook, COURSE, A))
    assert rows[0] == ["student", "status", "sigmoid", "relu", "softmax", "total", "max", "reason", "raw", "days_late",
                       "late_penalty_percent", "overrides"]
    assert rows[1:] == [
        ["alice", "graded", "2", "1", "3", "6", "6", "", "6", "", "", ""],
        ["bob", "graded", "2", "1", "1", "4", "6", "", "4", "", "", ""],
        ["carol", "graded", "0.3", "0", "3", "3.3", "6", "", "3.3", "", "", ""],
        ["dave", "failed", "0", "0", "0", "0", "6", "the notebook is not valid JSON (line 3)", "0", "", "", ""],
    ]


def test_a_reason_with_commas_and_quotes_survives_the_csv_round_trip(tmp_path):
    reason = 'cell "softmax", line 2: SyntaxError, invalid syntax\nsecond line'
    with Gradebook(tmp_path / "gb.sqlite") as gb:
        gb.record(failed_record(A, "erin", reason, max_score=6, submission_hash="h", grader_version="v1",
                                path="p", started_at=0.0), [])
        rows = parse_csv(tasks_csv(gb, COURSE, A))
    assert rows[1][rows[0].index("reason")] == reason


def test_an_unknown_assignment_is_an_error_that_lists_the_known_ones(gradebook):
    with pytest.raises(ExportError, match=rf"no assignment 'a99_nope'.*known: {A}"):
        tasks_csv(gradebook, COURSE, "a99_nope")


def test_an_assignment_nobody_was_graded_for_says_to_grade_first(gradebook):
    with pytest.raises(ExportError, match=rf"no graded submission of {OTHER}.*grader autograde"):
        tasks_csv(gradebook, COURSE, OTHER)


def test_tests_of_a_task_not_in_course_yaml_count_in_the_total_but_in_no_task_column(tmp_path):
    with Gradebook(tmp_path / "gb.sqlite") as gb:
        record(gb, "frank", [*full_marks(), verdict("bonus", None, 1, 1), verdict("old_task", "tanh", 1, 1)])
        scores = class_scores(gb, COURSE, A)
    assert dict(scores.students[0].by_task) == {"sigmoid": 2, "relu": 1, "softmax": 3}
    assert scores.students[0].total == 8


# ------------------------------------------------------------------------------------------------ Canvas


def canvas_recognises_header(row: list[str]) -> bool:
    """Canvas's own header rules (lib/gradebook_importer.rb: row_has_student_headers?, update_column_count,
    header?) for a header without custom columns: Student, ID, [SIS User ID, SIS Login ID], Section."""
    if not (len(row) > 3 and "Student" in row[0] and "ID" in row[1]):
        return False
    columns = 3
    if "SIS Login ID" in row[2]:
        columns += 1
    elif "SIS User ID" in row[2] and "SIS Login ID" in row[3]:
        columns += 2
    return "Section" in row[columns - 1]


def test_the_canvas_csv_has_canvas_header_points_possible_and_logins(gradebook):
    rows = parse_csv(canvas_csv(gradebook, COURSE, A))
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", TITLE]
    assert canvas_recognises_header(rows[0])
    assert rows[1] == ["Points Possible", "", "", "", "", "6"]
    assert rows[2:] == [
        ["alice", "", "", "alice", "", "6"],
        ["bob", "", "", "bob", "", "4"],
        ["carol", "", "", "carol", "", "3.3"],
        ["dave", "", "", "dave", "", ""],  # failed: blank, which Canvas reads as "no change", never a 0
    ]


def test_canvas_header_rules_reject_what_canvas_rejects():
    assert not canvas_recognises_header(["Name", "ID", "SIS Login ID", "Section", "A1"])
    assert not canvas_recognises_header(["Student", "ID", "SIS User ID", "SIS Login ID", "A1"])
    assert canvas_recognises_header(list(CANVAS_STUDENT_COLUMNS) + ["A1"])


def test_a_canvas_assignment_id_goes_in_parentheses_after_the_title(gradebook):
    rows = parse_csv(canvas_csv(gradebook, COURSE, A, canvas_assignment_id="4242"))
    assert rows[0][-1] == f"{TITLE} (4242)"
    with pytest.raises(ExportError, match="must be a number"):
        canvas_csv(gradebook, COURSE, A, canvas_assignment_id="a00")


def with_title(title: str):
    import dataclasses

    manifest = COURSE.manifest
    renamed = dataclasses.replace(manifest.assignments[0], title=title)
    return dataclasses.replace(COURSE, manifest=dataclasses.replace(
        manifest, assignments=(renamed, *manifest.assignments[1:])))


def test_a_title_that_canvas_would_read_as_an_id_asks_for_the_id(gradebook):
    course = with_title("Warm-up (2)")
    with pytest.raises(ExportError, match="--canvas-assignment-id"):
        canvas_csv(gradebook, course, A)
    assert parse_csv(canvas_csv(gradebook, course, A, canvas_assignment_id="7"))[0][-1] == "Warm-up (2) (7)"


@pytest.mark.parametrize("title", ["Warm-up(2)", "Part (a)", "Week 2: softmax, ReLU"])
def test_titles_canvas_reads_as_titles_are_written_as_they_are(gradebook, title):
    assert parse_csv(canvas_csv(gradebook, with_title(title), A))[0][-1] == title


def write_map(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_a_roster_fills_in_canvas_ids_names_and_sections(gradebook, tmp_path):
    roster = write_map(tmp_path / "roster.csv", "\ufeffstudent,canvas_id,name,section\n"
                       'alice,101,"Lovelace, Ada",S1\nbob,102,"Boole, George",S2\ndave,104,"Dee, Dave",\n')
    rows = parse_csv(canvas_csv(gradebook, COURSE, A, canvas_map=roster))
    assert rows[2:] == [
        ["Lovelace, Ada", "101", "", "alice", "S1", "6"],
        ["Boole, George", "102", "", "bob", "S2", "4"],
        ["carol", "", "", "carol", "", "3.3"],  # not in the roster: Canvas finds her by login
        ["Dee, Dave", "104", "", "dave", "", ""],
    ]


@pytest.mark.parametrize(("text", "message"), [
    ("student,name\nalice,Ada\n", "has no column canvas_id"),
    ("student,canvas_id,name\nalice,ada01,Ada\n", "line 2: canvas_id 'ada01' is not a number"),
    ("student,canvas_id,name\nalice,1,Ada\nalice,2,Ada\n", "line 3: student 'alice' appears twice"),
    ("student,canvas_id,name\n,1,Ada\n", "line 2: the student column is empty"),
])
def test_a_bad_roster_names_the_file_the_line_and_the_fix(gradebook, tmp_path, text, message):
    roster = write_map(tmp_path / "roster.csv", text)
    with pytest.raises(ExportError, match=message) as info:
        canvas_csv(gradebook, COURSE, A, canvas_map=roster)
    assert str(roster) in str(info.value)


def test_a_missing_roster_file_is_an_error(gradebook, tmp_path):
    with pytest.raises(ExportError, match="does not exist"):
        canvas_csv(gradebook, COURSE, A, canvas_map=tmp_path / "nope.csv")


# ------------------------------------------------------------------------------------------------ Gradescope


def test_every_gradescope_document_follows_the_specification_schema(gradebook):
    docs = gradescope_results(gradebook, COURSE, A)
    assert sorted(docs) == ["alice", "bob", "carol", "dave"]
    for doc in docs.values():
        jsonschema.validate(doc, SCHEMA)


def test_a_gradescope_document_carries_each_test_field_by_field(gradebook):
    bob = gradescope_results(gradebook, COURSE, A)["bob"]
    assert bob["score"] == 4
    assert bob["execution_time"] == 2.5
    assert bob["output"] == "Score: 4 / 6"
    assert (bob["visibility"], bob["stdout_visibility"], bob["output_format"]) == ("visible", "hidden", "text")
    assert bob["extra_data"] == {"assignment": A, "student": "bob", "status": "graded", "submission_hash": "hash-bob",
                                 "grader_version": "v1"}
    assert [t["number"] for t in bob["tests"]] == ["1.1", "1.2", "2.1", "3.1", "3.2"]
    wrong_axis = bob["tests"][4]
    assert wrong_axis == {
        "score": 0, "max_score": 2, "status": "failed", "name": "the softmax over the last axis",
        "name_format": "text", "number": "3.2", "output": WRONG_AXIS, "output_format": "text", "tags": ["softmax"],
        "visibility": "after_published", "extra_data": {"test": "softmax_over_the_last_axis", "status": "failed"},
    }
    assert [t["visibility"] for t in bob["tests"]] == ["visible", "after_published", "visible", "visible",
                                                       "after_published"]
    assert bob["tests"][0]["status"] == "passed"


def test_gradescope_marks_a_timeout_failed_and_keeps_the_kind_in_the_tags(gradebook):
    carol = gradescope_results(gradebook, COURSE, A)["carol"]
    relu = carol["tests"][2]
    assert (relu["status"], relu["tags"], relu["score"]) == ("failed", ["relu", "timeout"], 0)
    assert carol["score"] == 3.3  # 0.1 + 0.2 + 1 + 2, without float noise
    assert carol["tests"][0]["score"] == 0.1
    assert carol["output"] == "Score: 3.3 / 6\n\nTo fix:\n- cell 'relu' prints inside a loop"


def test_a_failed_submission_scores_zero_on_gradescope_and_says_why(gradebook):
    dave = gradescope_results(gradebook, COURSE, A)["dave"]
    assert (dave["score"], dave["tests"]) == (0, [])
    assert dave["output"] == "This submission could not be graded: the notebook is not valid JSON (line 3)"
    assert dave["extra_data"]["status"] == "failed"


def break_visibility(doc):
    doc["tests"][0]["visibility"] = "after_publish"


def break_status(doc):
    doc["tests"][0]["status"] = "ok"


def break_score_type(doc):
    doc["score"] = "4"


def break_key_spelling(doc):
    doc["tests"][0]["max_points"] = doc["tests"][0].pop("max_score")


def drop_every_score(doc):
    del doc["score"]
    for t in doc["tests"]:
        del t["score"]


def break_tags(doc):
    doc["tests"][0]["tags"] = "softmax"


@pytest.mark.parametrize("damage", [break_visibility, break_status, break_score_type, break_key_spelling,
                                    drop_every_score, break_tags])
def test_a_document_that_breaks_the_specification_fails_the_schema(gradebook, damage):
    doc = copy.deepcopy(gradescope_results(gradebook, COURSE, A)["bob"])
    jsonschema.validate(doc, SCHEMA)
    damage(doc)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, SCHEMA)


def test_scores_on_every_test_are_enough_without_a_top_level_score():
    jsonschema.validate({"tests": [{"score": 1, "max_score": 1}]}, SCHEMA)


def test_gradescope_writes_one_results_json_per_student_folder(gradebook, tmp_path):
    written = write_gradescope(gradebook, COURSE, A, tmp_path / "gs")
    assert [p.relative_to(tmp_path / "gs").as_posix() for p in written] == [
        "alice/results.json", "bob/results.json", "carol/results.json", "dave/results.json"]
    assert json.loads(written[1].read_text()) == gradescope_results(gradebook, COURSE, A)["bob"]


def test_a_student_id_cannot_write_outside_the_gradescope_folder(tmp_path):
    with Gradebook(tmp_path / "gb.sqlite") as gb:
        record(gb, "../evil", full_marks())
        written = write_gradescope(gb, COURSE, A, tmp_path / "gs")
    assert written[0].parent.parent == tmp_path / "gs"
    assert written[0].parent.name == ".._evil"


# ------------------------------------------------------------------------------------------------ nbgrader


@pytest.fixture(scope="module")
def empty_nbgrader_db(tmp_path_factory) -> Path:
    """A new nbgrader gradebook.db, made once: nbgrader takes seconds to create its tables."""
    from nbgrader.api import Gradebook as NbgraderGradebook

    from grader.release import _alembic_head_in_process

    db = tmp_path_factory.mktemp("nbgrader") / "empty.db"
    with _alembic_head_in_process(), NbgraderGradebook(f"sqlite:///{db}"):
        pass
    return db


@pytest.fixture
def nbgrader_db(empty_nbgrader_db, tmp_path) -> Path:
    """An nbgrader gradebook.db with no assignment yet, as `nbgrader db` would leave it."""
    db = tmp_path / "nbgrader" / "gradebook.db"
    db.parent.mkdir()
    shutil.copy(empty_nbgrader_db, db)
    return db


def read_nbgrader(db: Path) -> dict:
    """What nbgrader's own API reports: max score, cells, and each student's notebook score and grades."""
    from nbgrader.api import Gradebook as NbgraderGradebook

    with NbgraderGradebook(f"sqlite:///{db}") as nb:
        assignment = nb.find_assignment(A)
        notebook = nb.find_notebook(A, A)
        out = {
            "max_score": assignment.max_score,
            "cells": sorted((c.name, c.max_score, c.cell_type) for c in notebook.grade_cells),
            "students": sorted(s.id for s in nb.students),
            "submissions": len(nb.assignment_submissions(A)),
            "score": {s.id: nb.find_submission_notebook(A, A, s.id).score for s in nb.students},
            "grades": {
                s.id: {c: (g.auto_score, g.needs_manual_grade) for c in ("sigmoid", "relu", "softmax")
                       for g in [nb.find_grade(c, A, A, s.id)]}
                for s in nb.students
            },
        }
    with sqlite3.connect(db) as raw:
        out["rows"] = {t: raw.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                       for t in ("assignment", "notebook", "grade_cells", "student", "submitted_assignment", "grade")}
    return out


def test_nbgrader_shows_each_students_task_scores(gradebook, tmp_path):
    db = tmp_path / "nbgrader" / "gradebook.db"
    summary = write_nbgrader(gradebook, COURSE, A, db)
    got = read_nbgrader(db)
    assert (summary.assignment, summary.notebook, summary.students) == (A, A, 4)
    assert got["max_score"] == 6
    assert got["cells"] == [("relu", 1, "code"), ("sigmoid", 2, "code"), ("softmax", 3, "code")]
    assert got["students"] == ["alice", "bob", "carol", "dave"]
    assert got["submissions"] == 4
    assert got["score"] == pytest.approx({"alice": 6, "bob": 4, "carol": 3.3, "dave": 0})
    assert got["grades"]["bob"] == {"sigmoid": (2, False), "relu": (1, False), "softmax": (1, False)}
    assert got["grades"]["carol"]["sigmoid"] == (0.3, False)
    assert got["grades"]["dave"] == {c: (0, True) for c in ("sigmoid", "relu", "softmax")}  # needs a grader


def test_re_exporting_to_nbgrader_updates_instead_of_duplicating(gradebook, tmp_path, nbgrader_db):
    db = nbgrader_db
    write_nbgrader(gradebook, COURSE, A, db)
    first = read_nbgrader(db)
    write_nbgrader(gradebook, COURSE, A, db)
    assert read_nbgrader(db) == first
    assert first["rows"] == {"assignment": 1, "notebook": 1, "grade_cells": 3, "student": 4,
                             "submitted_assignment": 4, "grade": 12}


def test_a_regrade_and_a_new_student_reach_nbgrader_on_the_next_export(gradebook, tmp_path, nbgrader_db):
    db = nbgrader_db
    write_nbgrader(gradebook, COURSE, A, db)
    record(gradebook, "bob", full_marks())  # bob fixed his softmax
    gradebook.record(failed_record(A, "alice", "ran past 60 s", max_score=6, submission_hash="h2",
                                   grader_version="v1", path="p", started_at=0.0), [])
    record(gradebook, "erin", full_marks())
    write_nbgrader(gradebook, COURSE, A, db)
    got = read_nbgrader(db)
    assert got["score"] == pytest.approx({"alice": 0, "bob": 6, "carol": 3.3, "dave": 0, "erin": 6})
    assert got["grades"]["alice"]["softmax"] == (0, True)
    assert got["rows"]["submitted_assignment"] == 5


def test_a_manual_score_given_in_the_formgrader_survives_a_re_export(gradebook, tmp_path, nbgrader_db):
    from nbgrader.api import Gradebook as NbgraderGradebook

    db = nbgrader_db
    write_nbgrader(gradebook, COURSE, A, db)
    with NbgraderGradebook(f"sqlite:///{db}") as nb:
        grade = nb.find_grade("softmax", A, A, "dave")
        grade.manual_score = 2.5
        nb.db.commit()
    write_nbgrader(gradebook, COURSE, A, db)
    got = read_nbgrader(db)
    assert got["grades"]["dave"]["softmax"] == (0, False)  # graded by hand: no longer waiting for a grader
    assert got["score"]["dave"] == 2.5


def test_a_task_dropped_from_course_yaml_leaves_nbgrader_with_its_max_score(gradebook, tmp_path, nbgrader_db):
    import dataclasses

    db = nbgrader_db
    write_nbgrader(gradebook, COURSE, A, db)
    manifest = COURSE.manifest
    fewer = dataclasses.replace(manifest.assignments[0], tasks=manifest.assignments[0].tasks[:2])  # no softmax
    course = dataclasses.replace(COURSE, manifest=dataclasses.replace(
        manifest, assignments=(fewer, *manifest.assignments[1:])))
    summary = write_nbgrader(gradebook, course, A, db)
    from nbgrader.api import Gradebook as NbgraderGradebook

    with NbgraderGradebook(f"sqlite:///{db}") as nb:
        assert nb.find_assignment(A).max_score == 3
        assert sorted(c.name for c in nb.find_notebook(A, A).grade_cells) == ["relu", "sigmoid"]
        assert nb.find_submission_notebook(A, A, "bob").score == 3
    assert summary.removed_cells == ("softmax",)


def test_a_task_added_to_course_yaml_gets_a_grade_in_every_earlier_submission(gradebook, nbgrader_db):
    import dataclasses

    manifest = COURSE.manifest
    fewer = dataclasses.replace(manifest.assignments[0], tasks=manifest.assignments[0].tasks[:2])
    earlier = dataclasses.replace(COURSE, manifest=dataclasses.replace(
        manifest, assignments=(fewer, *manifest.assignments[1:])))
    write_nbgrader(gradebook, earlier, A, nbgrader_db)  # before softmax was a task
    write_nbgrader(gradebook, COURSE, A, nbgrader_db)
    got = read_nbgrader(nbgrader_db)
    assert got["max_score"] == 6
    assert got["grades"]["bob"]["softmax"] == (1, False)
    assert got["score"]["bob"] == 4
    assert got["rows"]["grade"] == 12


def test_nbgraders_formgrader_tables_list_the_scores(gradebook, nbgrader_db):
    """submission_dicts and student_dicts are what the formgrader's "Manage Submissions/Students" pages show."""
    from nbgrader.api import Gradebook as NbgraderGradebook

    write_nbgrader(gradebook, COURSE, A, nbgrader_db)
    with NbgraderGradebook(f"sqlite:///{nbgrader_db}") as nb:
        submissions = {d["student"]: d for d in nb.submission_dicts(A)}
        students = {d["id"]: d for d in nb.student_dicts()}
    assert {k: (round(d["score"], 6), d["max_score"], d["needs_manual_grade"]) for k, d in submissions.items()} == \
        {"alice": (6, 6, False), "bob": (4, 6, False), "carol": (3.3, 6, False), "dave": (0, 6, True)}
    assert students["bob"]["score"] == 4 and students["bob"]["max_score"] == 6


def test_a_roster_gives_nbgrader_names_and_the_canvas_id(gradebook, tmp_path, nbgrader_db):
    from nbgrader.api import Gradebook as NbgraderGradebook

    roster = write_map(tmp_path / "roster.csv", 'student,canvas_id,name\nalice,101,"Lovelace, Ada"\nbob,,George Boole\n')
    db = nbgrader_db
    write_nbgrader(gradebook, COURSE, A, db, canvas_map=roster)
    with NbgraderGradebook(f"sqlite:///{db}") as nb:
        alice, bob = nb.find_student("alice"), nb.find_student("bob")
        assert (alice.first_name, alice.last_name, alice.lms_user_id) == ("Ada", "Lovelace", "101")
        assert (bob.first_name, bob.last_name, bob.lms_user_id) == ("George", "Boole", None)


def test_nbgrader_export_refuses_the_class_gradebook_and_other_programs_files(gradebook, tmp_path):
    with pytest.raises(ExportError, match="is the class gradebook itself"):
        write_nbgrader(gradebook, COURSE, A, gradebook.path)
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE things (x)")
    with pytest.raises(ExportError, match="another program"):
        write_nbgrader(gradebook, COURSE, A, other)
    with sqlite3.connect(other) as db:
        assert [r[0] for r in db.execute("SELECT name FROM sqlite_master")] == ["things"]  # untouched


# ------------------------------------------------------------------------------------------------ entry points


@pytest.mark.parametrize("fmt", ["tasks", "canvas"])
def test_export_writes_the_same_csv_as_the_function(gradebook, tmp_path, fmt):
    out = tmp_path / "out" / f"{fmt}.csv"
    assert export(gradebook, COURSE, A, fmt, out) == [out]
    expected = tasks_csv(gradebook, COURSE, A) if fmt == "tasks" else canvas_csv(gradebook, COURSE, A)
    assert out.read_bytes().decode() == expected


def test_export_rejects_an_unknown_format(gradebook, tmp_path):
    with pytest.raises(ExportError, match="unknown format 'moodle'.*tasks, canvas, gradescope, nbgrader"):
        export(gradebook, COURSE, A, "moodle", tmp_path / "x")


def run_cli(*argv: str):
    parser = argparse.ArgumentParser(prog="grader")
    add_export_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["export", *argv, "--course", str(COURSE.path)])
    return args.func(args)


def test_the_command_exports_and_names_the_failed_students(gradebook, tmp_path, capsys):
    out = tmp_path / "canvas.csv"
    assert run_cli("--gradebook", str(gradebook.path), "--assignment", A, "--format", "canvas", "--out", str(out),
                   "--canvas-column", TITLE) == 0
    printed = capsys.readouterr().out
    assert f"exported 4 students of {A} (canvas) to {out}" in printed
    assert "grading failed for 1: dave (blank in Canvas" in printed
    assert parse_csv(out.read_text())[0][-1] == TITLE


def test_the_command_writes_gradescope_folders_and_nbgrader_databases(gradebook, tmp_path, nbgrader_db, capsys):
    assert run_cli("--gradebook", str(gradebook.path), "--assignment", A, "--format", "gradescope",
                   "--out", str(tmp_path / "gs")) == 0
    assert "4 files under" in capsys.readouterr().out
    assert run_cli("--gradebook", str(gradebook.path), "--assignment", A, "--format", "nbgrader",
                   "--out", str(nbgrader_db)) == 0
    assert read_nbgrader(nbgrader_db)["submissions"] == 4


@pytest.mark.parametrize(("argv", "message"), [
    (["--assignment", "a99_nope", "--format", "tasks"], "no assignment 'a99_nope'"),
    (["--assignment", OTHER, "--format", "tasks"], f"no graded submission of {OTHER}"),
    (["--assignment", A, "--format", "canvas", "--canvas-map", "missing.csv"], "missing.csv does not exist"),
    # without the column's id or exact name, Canvas would silently make a new assignment from a wrong title
    (["--assignment", A, "--format", "canvas"], r"--canvas-assignment-id ID or --canvas-column.*/assignments/<id>"),
])
def test_the_command_turns_mistakes_into_command_errors(gradebook, tmp_path, argv, message):
    from grader.cli import CommandError

    with pytest.raises(CommandError, match=message):
        run_cli("--gradebook", str(gradebook.path), "--out", str(tmp_path / "x.csv"), *argv)
    assert not (tmp_path / "x.csv").exists()


def test_a_missing_gradebook_is_an_error_and_is_not_created(tmp_path):
    from grader.cli import CommandError

    missing = tmp_path / "nope.sqlite"
    with pytest.raises(CommandError, match="nope.sqlite does not exist"):
        run_cli("--gradebook", str(missing), "--assignment", A, "--format", "tasks", "--out", str(tmp_path / "x.csv"))
    assert not missing.exists()


def test_points_possible_label_is_what_canvas_looks_for():
    assert "Points Possible" in CANVAS_POINTS_POSSIBLE


# ------------------------------------------------------------------------------------------------ nbgrader's formgrader


def formgrader_view(db: Path, course_dir: Path, student: str):
    """What the formgrader's submission page computes: nbgrader's own GetGrades run on the autograded notebook."""
    import nbformat
    from nbgrader.preprocessors import GetGrades

    notebook = nbformat.read(str(course_dir / "autograded" / student / A / f"{A}.ipynb"), as_version=4)
    nbformat.validate(notebook)
    resources = {"nbgrader": {"notebook": A, "assignment": A, "student": student, "db_url": f"sqlite:///{db}"}}
    notebook, resources = GetGrades().preprocess(notebook, resources)
    cells = {c.metadata.nbgrader["grade_id"]: c for c in notebook.cells if "nbgrader" in c.metadata}
    return resources["nbgrader"], cells


def test_the_formgrader_shows_each_submission_with_its_score_and_our_feedback_per_task(gradebook, tmp_path, nbgrader_db):
    course_dir = tmp_path / "course"
    submitted = tmp_path / "erin.ipynb"
    shutil.copy(RELEASE, submitted)
    gradebook.record(SubmissionRecord(
        assignment=A, student="erin", status="graded", score=4, max_score=6, submission_hash="h", grader_version="v1",
        path=str(submitted), started_at=0.0, finished_at=1.0), [verdict("softmax_over_the_last_axis", "softmax", 0, 2,
                                                                        feedback=WRONG_AXIS)] + full_marks()[:4])
    summary = write_nbgrader(gradebook, COURSE, A, nbgrader_db, nbgrader_course=course_dir)
    assert len(summary.notebooks) == 5
    scores = {s: formgrader_view(nbgrader_db, course_dir, s)[0]["score"] for s in ("alice", "bob", "carol", "dave", "erin")}
    assert scores == pytest.approx({"alice": 6, "bob": 4, "carol": 3.3, "dave": 0, "erin": 4})
    info, cells = formgrader_view(nbgrader_db, course_dir, "erin")  # a real notebook: its own answer cells are graded
    assert (cells["softmax"].metadata.nbgrader["score"], cells["softmax"].metadata.nbgrader["points"]) == (1, 3)
    assert WRONG_AXIS in cells["softmax"].metadata.nbgrader["comment"]
    assert WRONG_AXIS in "".join(o["text"] for o in cells["softmax"].outputs)
    _, cells = formgrader_view(nbgrader_db, course_dir, "dave")  # not gradable: the release, and why, per task
    assert "not graded: the notebook is not valid JSON" in cells["relu"].metadata.nbgrader["comment"]


def test_a_student_cannot_add_answer_cells_to_nbgraders_database(gradebook, tmp_path, nbgrader_db):
    import nbformat
    from nbgrader.api import Gradebook as NbgraderGradebook

    notebook = nbformat.read(str(RELEASE), as_version=4)
    forged = nbformat.v4.new_code_cell("x = 1")
    forged.metadata["nbgrader"] = {"solution": True, "grade": True, "grade_id": "bonus", "points": 100}
    notebook.cells += [forged, nbformat.v4.new_code_cell("y = 2", metadata={"nbgrader": {"solution": True}})]
    nbformat.write(notebook, str(tmp_path / "zed.ipynb"))
    gradebook.record(SubmissionRecord(
        assignment=A, student="zed", status="graded", score=6, max_score=6, submission_hash="h", grader_version="v1",
        path=str(tmp_path / "zed.ipynb"), started_at=0.0, finished_at=1.0), full_marks())
    write_nbgrader(gradebook, COURSE, A, nbgrader_db, nbgrader_course=tmp_path / "course")
    with NbgraderGradebook(f"sqlite:///{nbgrader_db}") as nb:
        assert "bonus" not in {c.name for c in nb.find_notebook(A, A).solution_cells}
        assert nb.find_assignment(A).max_score == 6
    info, _ = formgrader_view(nbgrader_db, tmp_path / "course", "zed")
    assert (info["score"], info["max_score"]) == (6, 6)


def test_lateness_reaches_nbgrader_as_its_late_penalty(gradebook, tmp_path, nbgrader_db):
    from grader.deadlines import Deadline, lateness, parse_policy

    gradebook.set_lateness(A, "bob", lateness(Deadline(1000.0, parse_policy({"per_day": 50})), 2000.0))
    write_nbgrader(gradebook, COURSE, A, nbgrader_db, nbgrader_course=tmp_path / "course")
    info, _ = formgrader_view(nbgrader_db, tmp_path / "course", "bob")
    assert (info["late_penalty"], info["score"]) == (2, 2)  # bob's 4 points, half off
    assert class_scores(gradebook, COURSE, A).students[1].total == 2


def test_a_manual_grade_in_the_formgrader_merges_back_into_our_gradebook(gradebook, tmp_path, nbgrader_db):
    from nbgrader.api import Gradebook as NbgraderGradebook

    from grader.export import MANUAL_GRADE_REASON, import_nbgrader_manual_grades

    write_nbgrader(gradebook, COURSE, A, nbgrader_db, nbgrader_course=tmp_path / "course")
    with NbgraderGradebook(f"sqlite:///{nbgrader_db}") as nb:
        nb.find_grade("softmax", A, A, "dave").manual_score = 2.5
        nb.find_comment("softmax", A, A, "dave").manual_comment = "right idea, wrong axis"
        nb.db.commit()
    merged = import_nbgrader_manual_grades(gradebook, COURSE, A, nbgrader_db)
    assert [(o.student, o.target, o.points) for o in merged] == [("dave", "softmax", 2.5)]
    assert merged[0].reason == f"{MANUAL_GRADE_REASON}: right idea, wrong axis"
    dave = class_scores(gradebook, COURSE, A).students[3]
    assert (dave.total, dave.by_task["softmax"]) == (2.5, 2.5)
    write_nbgrader(gradebook, COURSE, A, nbgrader_db, nbgrader_course=tmp_path / "course")
    assert read_nbgrader(nbgrader_db)["score"]["dave"] == 2.5  # and nbgrader keeps agreeing


def test_the_override_command_takes_the_formgraders_manual_grades(gradebook, tmp_path, nbgrader_db, capsys):
    from nbgrader.api import Gradebook as NbgraderGradebook

    from grader.cli import main

    write_nbgrader(gradebook, COURSE, A, nbgrader_db)
    with NbgraderGradebook(f"sqlite:///{nbgrader_db}") as nb:
        nb.find_grade("relu", A, A, "carol").manual_score = 1
        nb.db.commit()
    argv = ["override", "--gradebook", str(gradebook.path), "--assignment", A, "--course", str(COURSE.path)]
    assert main([*argv, "--from-nbgrader", str(nbgrader_db)]) == 0
    assert "carol: task relu set to 1 (graded by hand in nbgrader's formgrader)" in capsys.readouterr().out
    assert main([*argv, "--from-nbgrader", str(tmp_path / "missing.db")]) == 2
    assert "missing.db does not exist" in capsys.readouterr().err


@pytest.fixture
def formgrader(tmp_path):
    """A real nbgrader formgrader (jupyter server + nbgrader's extension) on 127.0.0.1, serving tmp_path/course."""
    import socket
    import subprocess
    import sys
    import time
    import urllib.error
    import urllib.request

    course_dir, config = tmp_path / "course", tmp_path / "jupyter-config"
    course_dir.mkdir()
    config.mkdir()
    (config / "jupyter_server_config.json").write_text(json.dumps(
        {"ServerApp": {"jpserver_extensions": {"nbgrader.server_extensions.formgrader": True}}}))
    (course_dir / "nbgrader_config.py").write_text(f"c = get_config()\nc.CourseDirectory.root = {str(course_dir)!r}\n")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(config), "JUPYTER_CONFIG_PATH": str(config),
           "JUPYTER_DATA_DIR": str(tmp_path / "jupyter-data"), "JUPYTER_RUNTIME_DIR": str(tmp_path / "jupyter-runtime")}
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyter_server", "--allow-root", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
         "--ServerApp.port_retries=0", "--ServerApp.open_browser=False", "--IdentityProvider.token=",
         f"--ServerApp.root_dir={course_dir}"],
        cwd=course_dir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}/formgrader"

    def get(path: str) -> str:
        with urllib.request.urlopen(base + path, timeout=30) as reply:
            return reply.read().decode()

    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                get("/api/status")
                break
            except (urllib.error.URLError, ConnectionError):
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("the formgrader did not start (jupyter server with nbgrader's extension)")
                time.sleep(0.5)
        yield course_dir, get
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


def test_a_real_formgrader_lists_the_assignment_each_score_and_shows_our_feedback(gradebook, formgrader):
    """Manage Assignments, Manage Submissions and a submission's page, from a formgrader on 127.0.0.1."""
    course_dir, get = formgrader
    write_nbgrader(gradebook, COURSE, A, course_dir / "gradebook.db", nbgrader_course=course_dir)
    assignments = json.loads(get("/api/assignments"))
    assert [(a["name"], a["max_score"], a["num_submissions"]) for a in assignments] == [(A, 6, 0)]
    erin = course_dir.parent / "erin.ipynb"  # a notebook handed in through an LMS: placed in nbgrader's submitted/
    shutil.copy(RELEASE, erin)
    gradebook.record(SubmissionRecord(
        assignment=A, student="erin", status="graded", score=6, max_score=6, submission_hash="h", grader_version="v1",
        path=str(erin), started_at=0.0, finished_at=1.0), full_marks())
    write_nbgrader(gradebook, COURSE, A, course_dir / "gradebook.db", nbgrader_course=course_dir)
    assert json.loads(get("/api/assignments"))[0]["num_submissions"] == 1
    submissions = {s["student"]: s for s in json.loads(get(f"/api/submissions/{A}"))}
    assert {k: (round(s["score"], 6), s["autograded"], s["needs_manual_grade"]) for k, s in submissions.items()} == {
        "alice": (6, True, False), "bob": (4, True, False), "carol": (3.3, True, False), "dave": (0, True, True),
        "erin": (6, True, False)}
    notebooks = {n["student"]: n for n in json.loads(get(f"/api/submitted_notebooks/{A}/{A}"))}
    page = get(f"/submissions/{notebooks['bob']['id']}/")
    assert WRONG_AXIS.split(":")[1].strip() in page  # our named mistake, under bob's softmax
    assert 'id="softmax"' in page and "/ 3.0" in page  # the task's score box and its points
