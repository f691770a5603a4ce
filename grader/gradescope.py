"""A Gradescope autograder bundle: the zip an instructor uploads, and the grading run inside Gradescope's container.

    grader gradescope a00_warmup --out autograder.zip        # build the zip (Configure Autograder > Zip file upload)

Gradescope's specification (https://gradescope-autograders.readthedocs.io/en/latest/specs/): the zip holds
`setup.sh` (run once, as root, when the image is built) and `run_autograder` (run for every submission, with the
student's files in `/autograder/submission/`, Gradescope's metadata in `/autograder/submission_metadata.json` and
the zip's other files in `/autograder/source/`); `run_autograder` must write `/autograder/results/results.json`.

What goes in, and why nothing in it can reach a student:
- `source/`: our package (grader/ with only this assignment's grader and calibration, reference/), a course.yaml
  holding this assignment alone, and the *release* notebook (assignments/<id>/<id>.ipynb) as the assignment's
  notebook. Grading takes only the answer cells from a submission and every other cell from that notebook, and those
  cells are the same in the release, so the instructor's solutions never leave the course repository.
- `setup.sh` installs bubblewrap from the distribution, then torch's CPU build and our package into a virtual
  environment under /autograder (not under /usr): the sandbox binds the Python installation read-only into each
  worker but masks an installed `grader` and `reference` found inside it (grader/sandbox.py), which it can do only
  for an installation outside /usr. Student code therefore never sees references, graders or the secret.
- `source/grader_secret`: the key hidden-test inputs are drawn from (GRADER_SECRET when the bundle is built, else
  random), so inputs differ between students and are reproduced when Gradescope regrades.

What comes back (`results.json`): our per-test verdicts and named-mistake feedback through the same document as
`grader export --format gradescope` (grader/export.py): hidden tests are `after_published`, stdout is hidden. A
container without user namespaces grades with the resource-limit and seccomp worker and says so at the top of the
output; a submission with no notebook, or an autograder that cannot run, still gets a results.json with the reason.
`AUTOGRADER_ROOT` prefixes every /autograder path (tests run the script against a simulated tree) and
`AUTOGRADER_PYTHON` names the interpreter (default: the bundle's virtual environment).
"""
from __future__ import annotations

import argparse
import json
import os
import stat
import sys
import time
import traceback
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from grader.course import Course
from grader.export import ClassScores, StudentScore, TestScore, gradescope_document

TORCH_VERSION = "2.13.0"
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
SECRET_FILE = "grader_secret"
RESULTS_FILE = "results/results.json"
# Copied from the course repository into source/: the packages pyproject.toml installs. Anything else (solutions/,
# tests/, examples/, other assignments' graders) stays out of the bundle.
DEFAULT_PACKAGES = ("grader", "reference")
SKIPPED_PARTS = ("__pycache__", ".ipynb_checkpoints", "graders")

SETUP_SH = f"""#!/usr/bin/env bash
# Run once by Gradescope, as root, when it builds the autograder image.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update
# bubblewrap gives each worker its own user, PID and network namespaces; python3-venv keeps our install out of /usr,
# where the sandbox could not hide the references from student code.
apt-get install -y --no-install-recommends bubblewrap python3-venv python3-pip
python3 -m venv /autograder/venv
/autograder/venv/bin/pip install --upgrade pip
/autograder/venv/bin/pip install --index-url {TORCH_CPU_INDEX} torch=={TORCH_VERSION}
/autograder/venv/bin/pip install /autograder/source
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Run by Gradescope for every submission; writes /autograder/results/results.json.
# AUTOGRADER_ROOT prefixes /autograder (a test runs this against a simulated tree); AUTOGRADER_PYTHON picks the Python.
set -u
root="${AUTOGRADER_ROOT:-}/autograder"
python="${AUTOGRADER_PYTHON:-$root/venv/bin/python}"
cd "$root/source"
exec "$python" -m grader.gradescope run --autograder "$root"
"""


class BundleError(Exception):
    """The bundle cannot be built (unknown assignment, missing release); the message says what to do."""


# --------------------------------------------------------------------------------------------- building the zip


def bundle_files(course: Course, assignment_id: str, *, secret: bytes) -> dict[str, bytes]:
    """Every file of the zip, by its path in the zip (setup.sh and run_autograder at the top, the rest in source/)."""
    try:
        assignment = course.assignment(assignment_id)
    except KeyError as exc:
        raise BundleError(exc.args[0]) from None
    root = course.root
    release = Path("assignments") / assignment_id / Path(assignment.notebook).name
    if not (root / release).is_file():
        raise BundleError(f"{release} does not exist: build the release first (grader release {assignment_id})")
    files: dict[str, bytes] = {"setup.sh": SETUP_SH.encode(), "run_autograder": RUN_AUTOGRADER.encode()}
    for folder in installed_packages(root):
        for path in sorted((root / folder).rglob("*")):
            rel = path.relative_to(root)
            if path.is_file() and not any(part in SKIPPED_PARTS for part in rel.parts) and path.suffix != ".pyc":
                files[f"source/{rel.as_posix()}"] = path.read_bytes()
    graders = root / Path(assignment.grader).parent
    for path in sorted(graders.iterdir()):
        # The graders' shared conftest, this assignment's grader and its calibration data; not the other graders.
        if path.name in ("conftest.py", "__init__.py", Path(assignment.grader).name,
                         f"calibration_{assignment_id}.json"):
            files[f"source/{path.relative_to(root).as_posix()}"] = path.read_bytes()
    files[f"source/{release.as_posix()}"] = (root / release).read_bytes()
    files["source/course.yaml"] = _bundle_course_yaml(course, assignment_id, release).encode()
    files["source/pyproject.toml"] = (root / "pyproject.toml").read_bytes()
    files["source/README.md"] = (root / "README.md").read_bytes()  # pyproject's readme: pip refuses to build without it
    files[f"source/{SECRET_FILE}"] = secret
    return files


def installed_packages(root: Path) -> list[str]:
    """The top-level packages pyproject.toml's [tool.setuptools.packages.find] include names, as folders of `root`."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10: the defaults
        return list(DEFAULT_PACKAGES)
    try:
        config = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
        patterns = config["tool"]["setuptools"]["packages"]["find"]["include"]
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return list(DEFAULT_PACKAGES)
    names = {p.rstrip("*").rstrip(".") for p in patterns}
    return sorted(n for n in names if n and (root / n / "__init__.py").is_file())


def _bundle_course_yaml(course: Course, assignment_id: str, release: Path) -> str:
    doc = yaml.safe_load(course.path.read_text(encoding="utf-8"))
    entry = next(a for a in doc["assignments"] if a["id"] == assignment_id)
    entry["notebook"] = release.as_posix()  # the release, not the solutions: see the module doc
    doc["assignments"] = [entry]
    header = f"# {assignment_id} alone, as packed by `grader gradescope`; edit the course's course.yaml instead.\n"
    return header + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)


def write_bundle(course: Course, assignment_id: str, out: Path, *, secret: bytes | None = None) -> Path:
    """The autograder zip at `out`; setup.sh and run_autograder are executable (Gradescope runs them directly)."""
    secret = secret or os.environb.get(b"GRADER_SECRET") or os.urandom(16).hex().encode()
    files = bundle_files(course, assignment_id, secret=secret)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))  # same input, same zip
            executable = name in ("setup.sh", "run_autograder")
            info.external_attr = ((0o755 if executable else 0o644) | stat.S_IFREG) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    return out


# --------------------------------------------------------------------------------------------- inside Gradescope


@dataclass(frozen=True)
class GradescopeSubmission:
    path: Path | None
    student: str
    problem: str = ""  # why there is nothing to grade, for the student


def find_submission(autograder: Path, notebook_name: str) -> GradescopeSubmission:
    """The student's file in submission/ and their id from submission_metadata.json (both as Gradescope writes them)."""
    student = _student_from_metadata(autograder / "submission_metadata.json")
    folder = autograder / "submission"
    named = folder / notebook_name
    if named.is_file():
        return GradescopeSubmission(named, student)
    candidates = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix in (".ipynb", ".py")
                        and ".ipynb_checkpoints" not in p.parts) if folder.is_dir() else []
    if len(candidates) == 1:
        return GradescopeSubmission(candidates[0], student)
    found = ", ".join(p.relative_to(folder).as_posix() for p in candidates) or "no .ipynb or .py file"
    return GradescopeSubmission(None, student, f"upload your notebook as {notebook_name} (found {found})")


def _student_from_metadata(path: Path) -> str:
    """The (first) submitter as Gradescope's roster knows them: the student ID (sid) the instructor entered, else the
    email, else Gradescope's user id. Never the notebook's STUDENT_ID, which the student typed: per-student numbers
    and hidden inputs are drawn for this id, and a Gradescope regrade finds the same one."""
    try:
        users = json.loads(path.read_text(encoding="utf-8")).get("users") or []
        user = users[0]
        return str(user.get("sid") or user.get("email") or user.get("id") or "anonymous")
    except (OSError, ValueError, IndexError, AttributeError):
        return "anonymous"


def run_autograder(autograder: Path, *, use_namespaces: bool | None = None) -> dict[str, Any]:
    """Grade the submission under `autograder` and write results/results.json; returns the document written."""
    from grader.course import load_course

    started = time.perf_counter()
    autograder = Path(autograder)
    course = load_course(autograder / "source" / "course.yaml")
    assignment = course.assignments[0]
    submission = find_submission(autograder, Path(assignment.notebook).name)
    if submission.path is None:
        doc = _no_grade_document(course, submission.student, f"Nothing was graded: {submission.problem}.")
    else:
        try:
            doc = _grade_document(course, submission, autograder, use_namespaces)
        except Exception as exc:  # our failure, not the student's: say so, and keep the trace for the instructor
            doc = _no_grade_document(
                course, submission.student,
                "The autograder could not grade this submission (not a problem with your code); your instructor "
                f"has been told. ({type(exc).__name__}: {exc})",
            )
            doc["extra_data"]["grader_error"] = traceback.format_exc()[-4000:]
    doc["execution_time"] = round(time.perf_counter() - started, 3)
    out = autograder / RESULTS_FILE
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return doc


def _grade_document(course: Course, submission: GradescopeSubmission, autograder: Path,
                    use_namespaces: bool | None) -> dict[str, Any]:
    from grader.engine import grade
    from grader.sandbox import Sandbox, SandboxError

    assignment = course.assignments[0]
    secret_file = autograder / "source" / SECRET_FILE
    secret = secret_file.read_bytes() if secret_file.is_file() else None
    try:
        sandbox = Sandbox(device="cpu", use_namespaces=use_namespaces)
    except SandboxError:  # bubblewrap installed but refused by this container: limits and seccomp only
        sandbox = Sandbox(device="cpu", use_namespaces=False)
    with sandbox:
        report = grade(submission.path, assignment_id=assignment.id, student=submission.student, course=course,
                       device="cpu", sandbox=sandbox, secret=secret).to_dict()
    tests = tuple(
        TestScore(test=name, task=t.get("task"), title=t["title"], visibility=t["visibility"], status=t["status"],
                  score=float(t["points"]), max_score=float(t["max_points"]), feedback=t["feedback"])
        for name, t in report["tests"].items()
    )
    student = StudentScore(
        student=submission.student, status="graded", reason="", total=float(report["score"]),
        by_task={}, tests=tests, problems=tuple(report.get("problems", [])), seconds=float(report["seconds"]),
        submission_hash="", grader_version="",
    )
    doc = gradescope_document(_scores_of(course), student)
    warning = (report.get("isolation") or {}).get("warning")
    if warning:
        doc["output"] = f"Warning: {warning}\n\n{doc['output']}"
    doc["extra_data"]["isolation"] = report.get("isolation", {})
    return doc


def _scores_of(course: Course, students: tuple[StudentScore, ...] = ()) -> ClassScores:
    assignment = course.assignments[0]
    return ClassScores(
        assignment_id=assignment.id, title=assignment.title, notebook=Path(assignment.notebook).stem,
        tasks=tuple((t.id, float(t.points)) for t in assignment.tasks), max_score=float(assignment.points),
        students=students,
    )


def _no_grade_document(course: Course, student: str, reason: str) -> dict[str, Any]:
    s = StudentScore(student=student, status="failed", reason=reason, total=0.0, by_task={}, tests=(), problems=(),
                     seconds=0.0, submission_hash="", grader_version="")
    doc = gradescope_document(_scores_of(course), s)
    doc["output"] = reason
    return doc


# --------------------------------------------------------------------------------------------- command line


def add_gradescope_parser(sub) -> None:
    p = sub.add_parser("gradescope", help="build a Gradescope autograder zip for one assignment")
    p.add_argument("assignment", help="assignment id, as in course.yaml")
    p.add_argument("--out", type=Path, default=None, help="the zip to write (default: autograder_<assignment>.zip)")
    p.add_argument("--course", type=Path, default=None, help="course.yaml (default: found from the current folder)")
    p.set_defaults(func=cmd_gradescope)


def cmd_gradescope(args: argparse.Namespace) -> int:
    from grader.cli import CommandError  # here, not at the top: grader.cli imports this module's parser
    from grader.course import load_course

    course = load_course(args.course)
    out = args.out or Path(f"autograder_{args.assignment}.zip")
    try:
        write_bundle(course, args.assignment, out)
    except BundleError as exc:
        raise CommandError(str(exc)) from None
    secret = ("GRADER_SECRET" if os.environ.get("GRADER_SECRET")
              else "a fresh random secret (set GRADER_SECRET to reuse one)")
    print(f"wrote {out}: upload it in Gradescope under Configure Autograder > Zip file upload "
          f"(Ubuntu base image); hidden-test inputs are drawn from {secret}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """`python -m grader.gradescope run --autograder /autograder`: what run_autograder calls."""
    parser = argparse.ArgumentParser(prog="python -m grader.gradescope")
    actions = parser.add_subparsers(dest="action", required=True)
    run = actions.add_parser("run", help="grade /autograder/submission into /autograder/results/results.json")
    run.add_argument("--autograder", type=Path, default=Path("/autograder"))
    args = parser.parse_args(argv)
    doc = run_autograder(args.autograder)
    print(f"score {doc['score']} written to {args.autograder / RESULTS_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
