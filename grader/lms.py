"""Submissions as learning-management systems hand them out: Canvas's zip, Moodle's download, Gradescope's export.

    grader autograde submissions.zip --assignment a00_warmup --lms canvas --roster roster.csv

Each reader returns the submissions it could map to a student id, the files it could not map (listed for the
instructor, never guessed) and, per submission, when it was submitted and where that time came from.

**canvas** ("Download Submissions" on the assignment page: a zip, or the folder it unpacks to). Each file is named
`<name>_<user id>_<submission id>_<original name>`, with `LATE` after the name when Canvas marked it late
(`doejane_LATE_1234_5678_a00_warmup.ipynb`); `<name>` is the sortable name in lower case without spaces or
punctuation. A resubmission's original name may carry a `-1`, `-2` suffix; the highest submission id of a student
is graded. The zip records no submission time Canvas vouches for: the entry's time is used as the stated
fallback, and the LATE marker is recorded as late even when that time is not after the due date.
Students are mapped by Canvas user id (roster column `canvas_id`); without a roster the Canvas user id *is* the
student id.

**moodle** ("Download all submissions": a zip or folder). Files are `<Full Name>_<participant id>_assignsubmission_
file_<original>` or, with "Download submissions in folders", folders `<Full Name>_<participant id>_assignsubmission_
file_/<original>`. The participant id is Moodle's per-assignment "Participant <id>" (the grading worksheet's
Identifier column), mapped through roster column `moodle_id`; without a roster, `participant-<id>` is the id.
Moodle writes each file's modification time into the zip, used as the submission time.

**gradescope** ("Export Submissions": a zip or folder holding `submission_metadata.yml` and `submission_<id>/`).
The metadata gives each submission's submitters (`:sid:`, `:email:`) and `:created_at:`. A student is the roster
row whose `student` equals the sid or whose `email` equals the email; without a roster, the sid (else the email).

The roster CSV (`--roster`) has a header with `student` and any of `canvas_id`, `moodle_id`, `email`, `name`;
`grader export --canvas-map` reads the same file (it needs `canvas_id` and `name`).

Zips are untrusted input: entries that would land outside the extraction folder, links and oversized members are
refused. A zip is extracted next to itself, into a folder of the same name without `.zip`, the way `unzip` does.
"""
from __future__ import annotations

import csv
import io
import os
import re
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath

import yaml

from grader.autograde import SUBMISSION_SUFFIXES, AutogradeError, Submission
from grader.course import Course

PLATFORMS = ("canvas", "moodle", "gradescope")
ROSTER_KEYS = ("canvas_id", "moodle_id", "email", "name")
MAX_MEMBER_BYTES = 256 * 2**20  # a notebook with every output is a few MB; anything larger is not a submission
MAX_ZIP_BYTES = 4 * 2**30
# <name>[_LATE]_<user id>_<submission id>_<original>; the name has no underscores (Canvas strips them).
_CANVAS_NAME = re.compile(r"^(?P<name>[^_]+)_(?P<late>LATE_)?(?P<user>\d+)_(?P<submission>\d+)_(?P<original>.+)$")
# Moodle 3.x writes folders with a trailing "_", 4.x without one.
_MOODLE_NAME = re.compile(r"^(?P<name>.+?)_(?P<participant>\d+)_assignsubmission_(?P<plugin>[a-z]+)(?:_(?P<original>.*))?$")


class LmsError(AutogradeError):
    """The download cannot be read (not a zip, a missing metadata file, a bad roster); the message says why."""


@dataclass(frozen=True)
class Unmapped:
    item: str  # the file or submission as the platform named it
    why: str


@dataclass
class Ingested:
    platform: str
    submissions: list[Submission] = field(default_factory=list)
    unmapped: list[Unmapped] = field(default_factory=list)


# --------------------------------------------------------------------------------------------- the roster


@dataclass(frozen=True)
class Roster:
    by_key: dict[str, dict[str, str]]  # roster column -> value there -> our student id
    students: frozenset[str]

    def find(self, key: str, value: str) -> str | None:
        return self.by_key.get(key, {}).get(value.strip().lower() if key == "email" else value.strip())


def read_roster(path: Path) -> Roster:
    """The roster CSV: a `student` column and any of canvas_id, moodle_id, email, name (see module doc)."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise LmsError(f"{path} does not exist: give a roster CSV with a student column and canvas_id, moodle_id "
                       "or email") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise LmsError(f"{path} cannot be read ({exc}); save it as a UTF-8 CSV") from None
    reader = csv.DictReader(io.StringIO(text))
    header = [(h or "").strip() for h in reader.fieldnames or []]
    if "student" not in header:
        raise LmsError(f"{path}: the header has no student column (found {','.join(header) or 'nothing'}); "
                       f"expected student and any of {', '.join(ROSTER_KEYS)}")
    by_key: dict[str, dict[str, str]] = {k: {} for k in ROSTER_KEYS}
    students = set()
    for line, raw in enumerate(reader, start=2):
        row = {(k or "").strip(): (v or "").strip() for k, v in raw.items() if k is not None}
        student = row.get("student", "")
        if not student:
            raise LmsError(f"{path}: line {line}: the student column is empty")
        students.add(student)
        for key in ROSTER_KEYS:
            value = row.get(key, "")
            if not value:
                continue
            value = value.lower() if key == "email" else value
            if by_key[key].get(value, student) != student:
                raise LmsError(f"{path}: line {line}: {key} {value!r} is given to both {by_key[key][value]!r} and "
                               f"{student!r}; fix the roster")
            by_key[key][value] = student
    return Roster(by_key=by_key, students=frozenset(students))


# --------------------------------------------------------------------------------------------- unpacking


def unpack(source: Path) -> Path:
    """The folder of a download: `source` itself, or the zip extracted next to it (safely, see module doc)."""
    source = Path(source)
    if source.is_dir():
        return source
    if not zipfile.is_zipfile(source):
        raise LmsError(f"{source} is neither a folder nor a zip: give the file the platform downloaded")
    target = source.with_suffix("")
    with zipfile.ZipFile(source) as zf:
        members = zf.infolist()
        if sum(m.file_size for m in members) > MAX_ZIP_BYTES:
            raise LmsError(f"{source} unpacks to more than {MAX_ZIP_BYTES // 2**30} GiB; is it the right download?")
        for m in members:
            rel = PurePosixPath(m.filename)
            if rel.is_absolute() or ".." in rel.parts or (m.external_attr >> 16) & 0o170000 == 0o120000:
                raise LmsError(f"{source}: entry {m.filename!r} would be written outside {target} (or is a link); "
                               "refusing to unpack it")
            if m.is_dir():
                continue
            if m.file_size > MAX_MEMBER_BYTES:
                raise LmsError(f"{source}: entry {m.filename!r} is {m.file_size // 2**20} MiB, larger than any "
                               "submission; remove it and try again")
            out = target.joinpath(*rel.parts)
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(zf.read(m))
            stamp = datetime(*m.date_time).timestamp()  # the zip's local time, as the platform wrote it
            os.utime(out, (stamp, stamp))
    return target


def _graded_file(files: list[tuple[str, Path]], notebook_name: str) -> Path | None:
    """The file to grade among (original name, path) pairs: the one named like the release notebook, else the only
    notebook or .py file; None when that is ambiguous (listed for the instructor, not guessed)."""
    candidates = [(name, p) for name, p in files if Path(name).suffix in SUBMISSION_SUFFIXES]
    named = sorted(p for name, p in candidates if _without_resubmission_suffix(name) == notebook_name)
    if named:
        return named[-1]
    return candidates[0][1] if len(candidates) == 1 else None


def _without_resubmission_suffix(name: str) -> str:
    """`a00_warmup-2.ipynb` -> `a00_warmup.ipynb` (Canvas numbers resubmitted files)."""
    stem, dot, suffix = name.rpartition(".")
    return re.sub(r"-\d+$", "", stem) + dot + suffix if dot else name


# --------------------------------------------------------------------------------------------- the platforms


def read_canvas(folder: Path, assignment_id: str, notebook_name: str, roster: Roster | None) -> Ingested:
    out = Ingested("canvas")
    # student -> (submission id, late, [(original name, path)]): only the latest submission's files are graded
    latest: dict[str, tuple[int, bool, list[tuple[str, Path]]]] = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        m = _CANVAS_NAME.match(path.name)
        if m is None:
            out.unmapped.append(Unmapped(path.name, "not named <name>_<user id>_<submission id>_<file> as Canvas "
                                                    "names its downloads"))
            continue
        student = roster.find("canvas_id", m["user"]) if roster else m["user"]
        if student is None:
            out.unmapped.append(Unmapped(path.name, f"Canvas user {m['user']} is not in the roster's canvas_id column"))
            continue
        number = int(m["submission"])
        if student not in latest or number > latest[student][0]:
            latest[student] = (number, bool(m["late"]), [])
        if number == latest[student][0]:
            latest[student][2].append((m["original"], path))
    for student, (_, late, files) in sorted(latest.items()):
        chosen = _graded_file(files, notebook_name)
        if chosen is None:
            out.unmapped.append(Unmapped(student, f"no {notebook_name} (or single .ipynb/.py) among "
                                                  f"{', '.join(name for name, _ in files)}"))
            continue
        out.submissions.append(Submission(assignment_id, student, chosen, submitted_at=chosen.stat().st_mtime,
                                          time_source="zip entry time (Canvas records none)", marked_late=late))
    return out


def read_moodle(folder: Path, assignment_id: str, notebook_name: str, roster: Roster | None) -> Ingested:
    out = Ingested("moodle")
    files_of: dict[str, list[tuple[str, Path]]] = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        # "Download submissions in folders" puts the participant in the folder name, else in the file name.
        holder = next((part for part in path.relative_to(folder).parts if _MOODLE_NAME.match(part)), None)
        m = _MOODLE_NAME.match(holder) if holder else None
        if m is None:
            out.unmapped.append(Unmapped(path.name, "not named <Full Name>_<participant id>_assignsubmission_file_"
                                                    "<file> as Moodle names its downloads"))
            continue
        participant = m["participant"]
        student = roster.find("moodle_id", participant) if roster else f"participant-{participant}"
        if student is None:
            out.unmapped.append(Unmapped(path.relative_to(folder).as_posix(),
                                         f"participant {participant} is not in the roster's moodle_id column"))
            continue
        original = path.name if holder != path.name else m["original"]
        files_of.setdefault(student, []).append((original, path))
    for student, files in sorted(files_of.items()):
        chosen = _graded_file(files, notebook_name)
        if chosen is None:
            out.unmapped.append(Unmapped(student, f"no {notebook_name} (or single .ipynb/.py) among "
                                                  f"{', '.join(name for name, _ in files)}"))
            continue
        out.submissions.append(Submission(assignment_id, student, chosen, submitted_at=chosen.stat().st_mtime,
                                          time_source="file time in Moodle's download"))
    return out


def read_gradescope(folder: Path, assignment_id: str, notebook_name: str, roster: Roster | None) -> Ingested:
    out = Ingested("gradescope")
    metadata_files = sorted(folder.rglob("submission_metadata.yml"))
    if not metadata_files:
        raise LmsError(f"{folder} has no submission_metadata.yml: give the zip of Gradescope's 'Export Submissions'")
    base = metadata_files[0].parent
    try:
        metadata = yaml.safe_load(metadata_files[0].read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise LmsError(f"{metadata_files[0]} is not readable YAML ({exc})") from None
    for key, entry in sorted(metadata.items()):
        entry = entry or {}
        submitters = entry.get(":submitters") or []
        student = None
        for person in submitters:
            sid, email = str(person.get(":sid") or "").strip(), str(person.get(":email") or "").strip()
            if roster:
                student = (roster.find("email", email) if email else None) or (sid if sid in roster.students else None)
            else:
                student = sid or email or None
            if student:
                break
        if student is None:
            who = ", ".join(str(p.get(":email") or p.get(":name") or "?") for p in submitters) or "nobody"
            out.unmapped.append(Unmapped(str(key), f"submitted by {who}, not found in the roster "
                                                   "(student = sid, or email)"))
            continue
        files = sorted(p for p in (base / str(key)).rglob("*") if p.is_file()) if (base / str(key)).is_dir() else []
        chosen = _graded_file([(p.name, p) for p in files], notebook_name)
        if chosen is None:
            out.unmapped.append(Unmapped(str(key), f"no {notebook_name} (or single .ipynb/.py) in the submission"))
            continue
        submitted = _timestamp(entry.get(":created_at"))
        out.submissions.append(Submission(
            assignment_id, student, chosen,
            submitted_at=submitted if submitted is not None else chosen.stat().st_mtime,
            time_source="Gradescope's created_at" if submitted is not None else "file time (no created_at)"))
    return out


def _timestamp(value: object) -> float | None:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).timestamp()
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.strip().replace(" ", "T", 1).replace(" ", "")).timestamp()
        except ValueError:
            return None
    return None


READERS = {"canvas": read_canvas, "moodle": read_moodle, "gradescope": read_gradescope}


def ingest(source: Path, course: Course, assignment_id: str | None, platform: str,
           roster: Path | None = None) -> Ingested:
    """The submissions of one assignment in an LMS download (zip or folder); see the module doc."""
    if platform not in READERS:
        raise LmsError(f"unknown platform {platform!r}: expected one of {', '.join(PLATFORMS)}")
    known = [a.id for a in course.assignments]
    if assignment_id is None:
        raise LmsError(f"a {platform} download holds one assignment: say which with --assignment ({', '.join(known)})")
    if assignment_id not in known:
        raise LmsError(f"unknown assignment {assignment_id!r}; course.yaml has: {', '.join(known)}")
    source = Path(source)
    if not source.exists():
        raise LmsError(f"{source} does not exist: give the zip (or its folder) that {platform} downloaded")
    folder = unpack(source)
    notebook_name = Path(course.assignment(assignment_id).notebook).name
    ingested = READERS[platform](folder, assignment_id, notebook_name, read_roster(roster) if roster else None)
    if not ingested.submissions and not ingested.unmapped:
        raise LmsError(f"no submissions found in {source} as {platform} lays them out; is it the right platform?")
    return ingested
