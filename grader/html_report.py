"""Self-contained HTML feedback pages from the class gradebook: one per student and assignment, one per class.

    paths = write_reports(gradebook, course, "a00_warmup", Path("out/html"))
    # out/html/a00_warmup/<student>.html for every submission, out/html/a00_warmup/index.html for the class

Every page is one file a student can open offline or receive by mail: the CSS is inline, every image is a
`data:image/png` URI (charts are drawn here with matplotlib, figures come from the gradebook), nothing loads from
the network and no JavaScript runs (a Content-Security-Policy forbids scripts as a second line of defence).

Everything that can come from a student (printed output, feedback that quotes it, problems, failure reasons, ids)
is escaped by Jinja2's autoescaping; hidden tests show their title and feedback only, as the gradebook holds nothing
more about them.
"""
from __future__ import annotations

import base64
import functools
import hashlib
import io
import re
import statistics
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
from matplotlib.figure import Figure

from grader.course import Course
from grader.gradebook import FigureRecord, Gradebook
from grader.safe_text import clean

TEMPLATES = Path(__file__).with_name("templates")
DPI = 80  # small images keep a page under ~300 KB
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MISTAKE_MARKER = re.compile(r"\bit looks like\s+", re.IGNORECASE)  # compare.py: "`x` is wrong: it looks like <mistake>."
MAX_MISTAKE_CHARS = 300
TOP_MISTAKES = 10
OUTPUT_HEAD_CHARS, OUTPUT_TAIL_CHARS = 8_000, 16_000  # printed output shown: its start and its end (escaping can
# make each character up to 6 bytes, so a 64 KB log shown whole could make a page of 400 KB)
PROGRESS_MIN_STUDENTS = 10  # fewer pages than this are written without a progress bar
NO_TASK = "(no task)"

STATUS_LABEL = {"passed": "✓ passed", "failed": "✗ failed", "error": "! error", "timeout": "⏱ timeout", "crashed": "☠ crashed"}
COLORS = {"full": "#2e7d32", "partial": "#ef6c00", "none": "#c62828", "max": "#e0e0e0", "failed": "#9e9e9e", "graded": "#1565c0"}


# ----------------------------------------------------------------------------------------------- named mistakes
def named_mistakes(feedback: str) -> list[str]:
    """The mistakes a feedback text names: what follows "it looks like" up to the full stop that ends the sentence.

    A full stop counts only outside parentheses, brackets and `code`, and only when a space or the end follows, so
    "it looks like the padding counted once (it is added on both sides). Hint" gives
    "the padding counted once (it is added on both sides)". Text without the closing full stop names nothing.
    """
    found = []
    for match in MISTAKE_MARKER.finditer(feedback):
        text = feedback[match.end():]
        depth, in_code, end = 0, False, None
        for i, char in enumerate(text):
            if char == "`":
                in_code = not in_code
            elif in_code:
                continue
            elif char in "([{":
                depth += 1
            elif char in ")]}":
                depth = max(0, depth - 1)
            elif char == "." and depth == 0 and (i + 1 == len(text) or text[i + 1].isspace()):
                end = i
                break
        if end is None:
            continue
        mistake = " ".join(text[:end].split())
        if mistake and len(mistake) <= MAX_MISTAKE_CHARS:
            found.append(mistake)
    return found


@dataclass(frozen=True)
class MistakeCount:
    test: str
    title: str
    task: str
    mistake: str
    students: int


def common_mistakes(results: list[dict[str, Any]], top: int = TOP_MISTAKES) -> list[MistakeCount]:
    """The `top` most frequent (test, named mistake) pairs, each counted once per student, most frequent first."""
    students: dict[tuple[str, str], set[str]] = defaultdict(set)
    about: dict[str, dict[str, Any]] = {}
    for r in results:
        if r["status"] == "passed":
            continue
        for mistake in dict.fromkeys(named_mistakes(r["feedback"])):
            students[(r["test"], mistake)].add(r["student"])
            about[r["test"]] = r
    counts = [
        MistakeCount(test, about[test]["title"], about[test]["task"] or NO_TASK, mistake, len(who))
        for (test, mistake), who in students.items()
    ]
    counts.sort(key=lambda c: (-c.students, c.test, c.mistake))
    return counts[:top]


def is_grader_error(result: dict[str, Any]) -> bool:
    """Whether a test failed because of the grader, not the student: the gradebook's stored flag, never the feedback
    text (a student's exception message can say anything)."""
    return bool(result.get("grader_error"))


# ----------------------------------------------------------------------------------------------- file names
def page_name(student: str) -> str:
    """A safe file name for a student's page; ids with other characters get a short digest so names stay unique."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", student).strip(".") or "student"
    if safe != student or safe.lower() == "index":
        safe = f"{safe[:60]}-{hashlib.sha256(student.encode()).hexdigest()[:8]}"
    return f"{safe}.html"


# ----------------------------------------------------------------------------------------------- images
def shown_output(output: str) -> tuple[str, int]:
    """The printed output a page shows (its start and end when it is long) and how many characters are left out."""
    if len(output) <= OUTPUT_HEAD_CHARS + OUTPUT_TAIL_CHARS:
        return output, 0
    left_out = len(output) - OUTPUT_HEAD_CHARS - OUTPUT_TAIL_CHARS
    return f"{output[:OUTPUT_HEAD_CHARS]}\n\n[... {left_out} characters left out ...]\n\n{output[-OUTPUT_TAIL_CHARS:]}", left_out


def png_data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    return buf.getvalue()


def task_bar_chart(tasks: list[TaskScore]) -> bytes:
    """Horizontal bars: each task's points (coloured) over its maximum (grey)."""
    return _task_bar_chart(tuple((t.id, t.score, t.max_score) for t in tasks))


@functools.lru_cache(maxsize=256)  # many students of a class have the same points per task
def _task_bar_chart(tasks: tuple[tuple[str, float, float], ...]) -> bytes:
    fig = Figure(figsize=(5.6, 0.42 * len(tasks) + 0.9))
    ax = fig.add_subplot()
    names = [t[0] for t in tasks][::-1]
    scores = [t[1] for t in tasks][::-1]
    maxima = [t[2] for t in tasks][::-1]
    colors = [COLORS["full"] if s >= m > 0 else COLORS["none"] if s <= 0 else COLORS["partial"] for s, m in zip(scores, maxima)]
    ax.barh(names, maxima, color=COLORS["max"], height=0.6)
    ax.barh(names, scores, color=colors, height=0.6)
    for y, (s, m) in enumerate(zip(scores, maxima)):
        ax.text(m, y, f" {s:g}/{m:g}", va="center", fontsize=9)
    ax.set_xlim(0, max(maxima, default=1) * 1.18 or 1)
    ax.set_xlabel("points")
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return _png(fig)


def score_histogram(totals: list[float], failed: list[float], max_score: float) -> bytes:
    """The class's total scores; submissions that failed to run are stacked in grey."""
    fig = Figure(figsize=(6.0, 2.8))
    ax = fig.add_subplot()
    step = _bin_width([*totals, *failed], max_score)
    edges = [i * step - step / 2 for i in range(int(round(max_score / step)) + 2)]
    ax.hist([totals, failed], bins=edges, stacked=True, color=[COLORS["graded"], COLORS["failed"]],
            label=["graded", "failed to run"], edgecolor="white")
    if totals:
        mean = statistics.fmean(totals)
        ax.axvline(mean, color="black", linestyle="--", linewidth=1)
        ax.text(mean, ax.get_ylim()[1] * 0.95, f" mean {mean:.1f}", va="top", fontsize=9)
    ax.set_xlim(-0.75 * step, max_score + 0.75 * step)
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_xlabel(f"total score (of {max_score:g})")
    ax.set_ylabel("students")
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.legend(fontsize=8, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return _png(fig)


def task_histograms(per_task: dict[str, list[float]], maxima: dict[str, float]) -> bytes:
    """Small multiples: for each task, how many students got how many of its points."""
    names = list(per_task)
    columns = min(3, len(names))
    rows = -(-len(names) // columns)
    fig = Figure(figsize=(2.3 * columns, 1.9 * rows))
    for i, name in enumerate(names):
        ax = fig.add_subplot(rows, columns, i + 1)
        scores, top = per_task[name], maxima[name]
        step = _bin_width(scores, top)
        edges = [k * step - step / 2 for k in range(int(round(top / step)) + 2)]
        ax.hist(scores, bins=edges, color=COLORS["graded"], edgecolor="white")
        ax.set_xlim(-0.75 * step, top + 0.75 * step)
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.set_title(f"{name} (mean {statistics.fmean(scores):.1f}/{top:g})", fontsize=9)
        ax.tick_params(labelsize=8)
        ax.yaxis.get_major_locator().set_params(integer=True)
        ax.spines[["top", "right"]].set_visible(False)
        if i % columns == 0:
            ax.set_ylabel("students", fontsize=8)
        if i >= len(names) - columns:
            ax.set_xlabel("points", fontsize=8)
    fig.tight_layout()
    return _png(fig)


def _bin_width(scores: list[float], top: float) -> float:
    """One bar per possible score when there are few (whole or half points), else twenty bars."""
    if top <= 20:
        return 1.0 if all(float(v).is_integer() for v in [*scores, top]) else 0.5
    return top / 20


# ----------------------------------------------------------------------------------------------- page data
@dataclass
class TaskScore:
    id: str
    title: str
    score: float
    max_score: float
    tests: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class PageFigure:
    caption: str
    uri: str | None  # None when the stored bytes are not a PNG
    test_title: str = ""


def _tasks(course: Course | None, assignment_id: str, results: list[dict[str, Any]]) -> list[TaskScore]:
    """The tasks these results grade, in course order (then any task course.yaml does not list), with their tests."""
    tasks: dict[str, TaskScore] = {}
    if course and assignment_id in _ids(course):
        for t in course.assignment(assignment_id).tasks:
            tasks[t.id] = TaskScore(t.id, t.title or t.id, 0.0, 0.0)
    for r in results:
        name = r["task"] or NO_TASK
        task = tasks.setdefault(name, TaskScore(name, name, 0.0, 0.0))
        task.score += r["score"]
        task.max_score += r["max_score"]
        task.tests.append(r)
    return [t for t in tasks.values() if t.tests]


def _ids(course: Course) -> set[str]:
    return {a.id for a in course.assignments}


def _assignment_title(course: Course | None, assignment_id: str) -> str:
    if course and assignment_id in _ids(course):
        return course.assignment(assignment_id).title
    return assignment_id


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, undefined=jinja2.StrictUndefined,
        # Every printed string loses control characters and terminal escapes (student text can carry them).
        finalize=lambda value: clean(value) if isinstance(value, str) else value,
        trim_blocks=True, lstrip_blocks=True,
    )
    env.filters["points"] = lambda v: f"{v:g}"
    env.filters["status"] = lambda s: STATUS_LABEL.get(s, s)
    env.filters["when"] = lambda t: time.strftime("%Y-%m-%d %H:%M", time.localtime(t)) if t else ""
    env.filters["href"] = lambda student: quote(page_name(student))
    return env


def student_page(env: jinja2.Environment, *, course: Course | None, submission: dict[str, Any],
                 results: list[dict[str, Any]], figures: list[FigureRecord], adjustment: Any = None) -> str:
    """One student's page for one assignment."""
    assignment_id = submission["assignment"]
    tasks = _tasks(course, assignment_id, results)
    titles = {r["test"]: r["title"] for r in results}
    chart = png_data_uri(task_bar_chart(tasks)) if tasks and submission["status"] == "graded" else None
    page_figures = [
        PageFigure(f.name, png_data_uri(f.png) if f.png.startswith(PNG_SIGNATURE) else None, titles.get(f.test, ""))
        for f in figures
    ]
    max_score = submission["max_score"]
    output, left_out = shown_output(submission["output"])
    return env.get_template("student.html.j2").render(
        course=course.name if course else "",
        assignment=assignment_id,
        assignment_title=_assignment_title(course, assignment_id),
        s=submission,
        percent=100 * submission["score"] / max_score if max_score else 0.0,
        tasks=tasks,
        chart=chart,
        figures=page_figures,
        output=output,
        output_left_out=left_out,
        output_lines=len(submission["output"].splitlines()),
        generated=time.time(),
        adjustment=adjustment,
    )


def final_scores(gradebook: Gradebook, course: Course | None, assignment_id: str) -> dict[str, Any]:
    """student -> their `grader.export.StudentScore` where overrides or lateness changed the grader's score."""
    from grader.export import class_scores

    if course is None or assignment_id not in _ids(course):
        return {}
    return {s.student: s for s in class_scores(gradebook, course, assignment_id).students if s.adjustments()}


def class_page(env: jinja2.Environment, *, course: Course | None, assignment_id: str,
               submissions: list[dict[str, Any]], results: list[dict[str, Any]]) -> str:
    """The class summary of one assignment."""
    graded = [s for s in submissions if s["status"] == "graded"]
    failed = [s for s in submissions if s["status"] == "failed"]
    by_student: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in results:
        by_student[r["student"]].append(r)
    max_score = max((s["max_score"] for s in submissions), default=0.0)
    per_task: dict[str, list[float]] = {}
    maxima: dict[str, float] = {}
    for s in graded:
        for t in _tasks(course, assignment_id, by_student[s["student"]]):
            per_task.setdefault(t.id, []).append(t.score)
            maxima[t.id] = max(maxima.get(t.id, 0.0), t.max_score)
    totals = [s["score"] for s in graded]
    grader_errors = [r for r in results if is_grader_error(r)]
    return env.get_template("class.html.j2").render(
        course=course.name if course else "",
        assignment=assignment_id,
        assignment_title=_assignment_title(course, assignment_id),
        submissions=submissions,
        graded=graded,
        failed=failed,
        max_score=max_score,
        mean=statistics.fmean(totals) if totals else None,
        median=statistics.median(totals) if totals else None,
        histogram=png_data_uri(score_histogram(totals, [s["score"] for s in failed], max_score)) if submissions else None,
        task_histograms=png_data_uri(task_histograms(per_task, maxima)) if per_task else None,
        mistakes=common_mistakes(results),
        grader_errors=grader_errors,
        with_problems=[s for s in graded if s["problems"]],
        unisolated=[s for s in submissions if s["isolation"].get("warning")],
        generated=time.time(),
    )


def write_reports(gradebook: Gradebook, course: Course | None, assignment_id: str, out_dir: Path) -> list[Path]:
    """Write out_dir/<assignment>/<student>.html for every submission and out_dir/<assignment>/index.html.

    Returns the paths written, the students' pages first (in student order) and the class page last.
    """
    from tqdm import tqdm

    submissions = gradebook.submissions(assignment_id)
    results = gradebook.results(assignment_id)
    folder = Path(out_dir) / assignment_id
    folder.mkdir(parents=True, exist_ok=True)
    env = _environment()
    by_student: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in results:
        by_student[r["student"]].append(r)
    paths = []
    progress = tqdm(submissions, desc=f"{assignment_id} pages", unit="student",
                    disable=True if len(submissions) < PROGRESS_MIN_STUDENTS else None)
    adjusted = final_scores(gradebook, course, assignment_id)
    for s in progress:
        html = student_page(env, course=course, submission=s, results=by_student[s["student"]],
                            figures=gradebook.figures(assignment_id, s["student"]),
                            adjustment=adjusted.get(s["student"]))
        path = folder / page_name(s["student"])
        path.write_text(html, encoding="utf-8")
        paths.append(path)
    index = folder / "index.html"
    index.write_text(class_page(env, course=course, assignment_id=assignment_id, submissions=submissions,
                                results=results), encoding="utf-8")
    paths.append(index)
    return paths


# ----------------------------------------------------------------------------------------------- command line
def add_report_parser(sub) -> None:
    p = sub.add_parser("report", help="write self-contained HTML feedback pages (one per student, one per class)")
    p.add_argument("--gradebook", type=Path, required=True, help="the gradebook file `grader autograde` wrote")
    p.add_argument("--assignment", default=None, help="one assignment id (default: every assignment in the gradebook)")
    p.add_argument("--out", type=Path, required=True, help="folder for OUT/<assignment>/<student>.html and index.html")
    p.add_argument("--course", type=Path, default=None, help="course.yaml (default: found from the current folder)")
    p.set_defaults(func=cmd_report)


def cmd_report(args) -> int:
    from grader.cli import CommandError
    from grader.course import load_course
    from grader.gradebook import GradebookError

    if not args.gradebook.is_file():
        raise CommandError(f"{args.gradebook} does not exist: give the --gradebook file that `grader autograde` wrote")
    course = load_course(args.course)
    try:
        with Gradebook(args.gradebook) as gb:
            known = sorted({s["assignment"] for s in gb.submissions()})
            if args.assignment and args.assignment not in known:
                raise CommandError(f"{args.gradebook} holds no submissions of {args.assignment!r}; it holds: "
                                   f"{', '.join(known) or 'nothing yet (run `grader autograde` first)'}")
            for assignment_id in [args.assignment] if args.assignment else known:
                paths = write_reports(gb, course, assignment_id, args.out)
                print(f"{assignment_id}: wrote {len(paths) - 1} student pages and {paths[-1]}")
    except GradebookError as exc:
        raise CommandError(str(exc)) from None
    return 0
