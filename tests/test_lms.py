"""Are Canvas, Moodle and Gradescope downloads mapped to the right students, with nothing guessed?"""
from __future__ import annotations

import zipfile
from datetime import datetime, timezone
from pathlib import Path

import pytest

from grader.cli import main
from grader.course import load_course
from grader.gradebook import Gradebook
from grader.export import CANVAS_HOW_TO
from grader.lms import LmsError, ingest, read_roster, unpack
from tests.examples_manifest import expected_score, load_examples

ROOT = Path(__file__).resolve().parent.parent
COURSE = load_course(ROOT / "course.yaml")
A = "a00_warmup"  # graded in seconds; points come from course.yaml, the examples' outcomes from their manifest
NOTEBOOK = f"{A}.ipynb"
MANIFEST = load_examples(COURSE, A)
RIGHT = next(e for e in MANIFEST.values() if e.full_marks)
WRONG = next(e for e in MANIFEST.values() if e.fails and all(f.status in (None, "failed") for f in e.fails))  # no hang


def write_zip(path: Path, members: dict[str, bytes], when=(2026, 11, 20, 10, 30, 0)) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(zipfile.ZipInfo(name, date_time=when), data)
    return path


def roster(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "roster.csv"
    path.write_text(text)
    return path


# --------------------------------------------------------------------------------------------- Canvas


def canvas_zip(tmp_path: Path) -> Path:
    alice, bob = RIGHT.path.read_bytes(), WRONG.path.read_bytes()
    return write_zip(tmp_path / "submissions.zip", {
        "liddellalice_101_9001_a00_warmup.py": alice,
        "builderbob_LATE_102_9002_a00_warmup.py": bob,
        "builderbob_102_8000_a00_warmup.py": b"an older submission, replaced by 9002",
        "builderbob_LATE_102_9002_notes.pdf": b"%PDF",
        "strangerdan_999_9003_a00_warmup.py": alice,
        "README.txt": b"not a submission",
    })


def test_canvas_files_map_by_user_id_and_keep_the_late_marker(tmp_path):
    """Canvas names files <name>[_LATE]_<user id>_<submission id>_<file>; only the latest submission is graded."""
    found = ingest(canvas_zip(tmp_path), COURSE, A, "canvas",
                   roster(tmp_path, "student,canvas_id,name\nalice,101,Alice Liddell\nbob,102,Bob Builder\n"))
    assert [(s.student, s.path.name, s.marked_late) for s in found.submissions] == [
        ("alice", "liddellalice_101_9001_a00_warmup.py", False),
        ("bob", "builderbob_LATE_102_9002_a00_warmup.py", True),
    ]
    assert found.submissions[0].submitted_at == datetime(2026, 11, 20, 10, 30).timestamp()
    assert "zip entry time" in found.submissions[0].time_source
    unmapped = {u.item: u.why for u in found.unmapped}
    assert "not in the roster" in unmapped["strangerdan_999_9003_a00_warmup.py"]  # listed, not guessed
    assert "README.txt" in unmapped


def test_without_a_roster_the_canvas_user_id_is_the_student_id(tmp_path):
    found = ingest(canvas_zip(tmp_path), COURSE, A, "canvas")
    assert [s.student for s in found.submissions] == ["101", "102", "999"]


def test_canvas_how_to_says_where_the_download_and_the_assignment_id_are():
    assert "Download Submissions" in CANVAS_HOW_TO and "/assignments/<id>" in CANVAS_HOW_TO


# --------------------------------------------------------------------------------------------- Moodle


def test_moodle_flat_and_folder_layouts_map_by_participant_id(tmp_path):
    alice = RIGHT.path.read_bytes()
    download = write_zip(tmp_path / "moodle.zip", {
        "Alice Liddell_1234567_assignsubmission_file_a00_warmup.py": alice,
        "Bob Builder_7654321_assignsubmission_file_/a00_warmup.ipynb": b"{}",
        "Bob Builder_7654321_assignsubmission_file_/scratch.txt": b"notes",
        "Carol Nobody_1111111_assignsubmission_file_/a00_warmup.py": alice,
        "Erin Four_3333333_assignsubmission_file/a00_warmup.py": alice,  # Moodle 4: no trailing "_"
        "Dan Two_2222222_assignsubmission_file_/one.py": alice,
        "Dan Two_2222222_assignsubmission_file_/two.py": alice,
    })
    found = ingest(download, COURSE, A, "moodle", roster(
        tmp_path, "student,moodle_id\nalice,1234567\nbob,7654321\ndan,2222222\nerin,3333333\n"))
    assert [(s.student, s.path.name) for s in found.submissions] == [
        ("alice", "Alice Liddell_1234567_assignsubmission_file_a00_warmup.py"),
        ("bob", NOTEBOOK),
        ("erin", "a00_warmup.py"),
    ]
    assert found.submissions[0].time_source == "file time in Moodle's download"
    why = " | ".join(f"{u.item}: {u.why}" for u in found.unmapped)
    assert "participant 1111111 is not in the roster" in why
    assert "dan: no a00_warmup.ipynb (or single .ipynb/.py) among one.py, two.py" in why  # ambiguous: not guessed


# --------------------------------------------------------------------------------------------- Gradescope


GRADESCOPE_METADATA = """\
submission_111:
  :submitters:
  - :name: Alice Liddell
    :sid: alice
    :email: Alice@Example.edu
  :created_at: 2026-11-21 09:15:00.123456000 +01:00
  :score: 0.0
submission_222:
  :submitters:
  - :name: Eve Unknown
    :sid: ''
    :email: eve@example.edu
  :created_at: 2026-11-20 09:15:00.000000000 +01:00
"""


def test_gradescope_export_maps_by_sid_or_email_and_reads_created_at(tmp_path):
    folder = tmp_path / "assignment_42_export"
    (folder / "submission_111").mkdir(parents=True)
    (folder / "submission_111" / NOTEBOOK).write_text("{}")
    (folder / "submission_222").mkdir()
    (folder / "submission_222" / NOTEBOOK).write_text("{}")
    (folder / "submission_metadata.yml").write_text(GRADESCOPE_METADATA)
    found = ingest(folder, COURSE, A, "gradescope", roster(tmp_path, "student,email\nalice,alice@example.edu\n"))
    assert [s.student for s in found.submissions] == ["alice"]
    expected = datetime(2026, 11, 21, 8, 15, 0, 123456, tzinfo=timezone.utc).timestamp()
    assert found.submissions[0].submitted_at == pytest.approx(expected, abs=1e-3)
    assert found.submissions[0].time_source == "Gradescope's created_at"
    assert [u.item for u in found.unmapped] == ["submission_222"]
    assert [s.student for s in ingest(folder, COURSE, A, "gradescope").submissions] == ["alice", "eve@example.edu"]


def test_a_gradescope_folder_without_metadata_says_which_export_to_give(tmp_path):
    (tmp_path / "x").mkdir()
    with pytest.raises(LmsError, match="Export Submissions"):
        ingest(tmp_path / "x", COURSE, A, "gradescope")


# --------------------------------------------------------------------------------------------- untrusted input


@pytest.mark.parametrize("name", ["../escape.py", "/abs/escape.py", "ok/../../escape.py"])
def test_a_zip_entry_that_would_land_outside_is_refused(tmp_path, name):
    download = write_zip(tmp_path / "evil.zip", {name: b"x"})
    with pytest.raises(LmsError, match="outside"):
        unpack(download)
    assert not (tmp_path / "escape.py").exists()


def test_a_roster_that_gives_one_id_to_two_students_is_refused(tmp_path):
    with pytest.raises(LmsError, match="given to both 'a' and 'b'"):
        read_roster(roster(tmp_path, "student,canvas_id\na,1\nb,1\n"))
    with pytest.raises(LmsError, match="no student column"):
        read_roster(roster(tmp_path, "login,canvas_id\na,1\n"))


def test_an_lms_download_needs_the_assignment(tmp_path):
    with pytest.raises(LmsError, match="--assignment"):
        ingest(canvas_zip(tmp_path), COURSE, None, "canvas")


# --------------------------------------------------------------------------------------------- end to end


def test_autograde_grades_a_canvas_zip_records_lateness_and_lists_the_unmapped(tmp_path, capsys):
    """The whole path: Canvas's zip, a roster, a due date with 10 % a day: bob's LATE submission loses 10 %."""
    gradebook = tmp_path / "gb.sqlite"
    rc = main(["autograde", str(canvas_zip(tmp_path)), "--assignment", A, "--lms", "canvas", "--roster",
               str(roster(tmp_path, "student,canvas_id\nalice,101\nbob,102\n")), "--gradebook", str(gradebook),
               "--workers", "0", "--no-progress", "--due", "2026-11-21T00:00:00+00:00", "--late-policy",
               "per_day:10", "--course", str(ROOT / "course.yaml")])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "strangerdan_999_9003_a00_warmup.py" in out and "not mapped" in out
    from grader.export import class_scores

    with Gradebook(gradebook) as gb:
        scores = {s.student: s for s in class_scores(gb, COURSE, A).students}
        results = gb.results(A)
    expected = {student: expected_score(example, [r for r in results if r["student"] == student])
                for student, example in (("alice", RIGHT), ("bob", WRONG))}  # alice sent RIGHT, bob WRONG
    assert set(scores) == {"alice", "bob"} and 0 < expected["bob"] < expected["alice"]
    assert scores["alice"].total == expected["alice"] and scores["alice"].lateness["days_late"] == 0
    assert scores["bob"].raw_total == expected["bob"] and scores["bob"].lateness["days_late"] == 1
    assert scores["bob"].total == pytest.approx(0.9 * expected["bob"])


def test_a_due_date_without_an_offset_stops_the_run_before_grading(tmp_path, capsys):
    rc = main(["autograde", str(canvas_zip(tmp_path)), "--assignment", A, "--lms", "canvas", "--gradebook",
               str(tmp_path / "gb.sqlite"), "--due", "2026-11-21 00:00", "--course", str(ROOT / "course.yaml")])
    assert rc == 2 and "no UTC offset" in capsys.readouterr().err
    assert not (tmp_path / "gb.sqlite").exists()


def test_a_roster_without_an_lms_is_refused(tmp_path, capsys):
    (tmp_path / "flat").mkdir()
    rc = main(["autograde", str(tmp_path / "flat"), "--assignment", A, "--roster", "r.csv",
               "--gradebook", str(tmp_path / "gb.sqlite"), "--course", str(ROOT / "course.yaml")])
    assert rc == 2 and "--lms" in capsys.readouterr().err


def test_every_command_in_the_instructors_guide_is_one_the_grader_accepts():
    """docs/instructors.md must not drift from the command line: each `grader ...` line parses."""
    import re
    import shlex

    from grader.cli import build_parser

    guide = (ROOT / "docs" / "instructors.md").read_text()
    commands = [line for block in re.findall(r"```bash\n(.*?)```", guide, re.DOTALL)
                for line in block.splitlines() if line.startswith("grader ")]
    assert len(commands) >= 10
    for command in commands:
        argv = shlex.split(command.split("  #")[0])[1:]
        try:
            build_parser().parse_args(argv)
        except SystemExit:
            pytest.fail(f"docs/instructors.md: `{command}` is not accepted by the grader command line")
