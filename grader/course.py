"""The course manifest, course.yaml, loaded through a typed schema with errors that name the file and the key."""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

ID = re.compile(r"^[a-z0-9_]+$")


class CourseConfigError(Exception):
    """course.yaml is wrong; the message names the file, the key and what was expected."""


def _meta(description: str, **kw):
    return field(metadata={"description": description}, **kw)


@dataclass(frozen=True)
class LimitsConfig:
    submission_seconds: float = _meta("wall-clock budget for grading one submission", default=120.0)
    call_seconds: float = _meta("wall-clock budget for one call into the student's code", default=10.0)
    cpu_seconds: int = _meta("CPU-time budget of one submission's worker", default=120)
    memory_mb: int = _meta("memory a worker may add on top of the preloaded numpy and torch", default=3072)
    output_kb: int = _meta("printed output kept for the report", default=256)
    file_mb: int = _meta("largest file (and scratch folder) a worker may write", default=16)


@dataclass(frozen=True)
class Tolerance:
    rtol: float = _meta("relative tolerance", default=1e-7)
    atol: float = _meta("absolute tolerance", default=1e-9)


@dataclass(frozen=True)
class Task:
    id: str = _meta("task id, [a-z0-9_]+, unique in the assignment")
    points: float = _meta("points of the task (the sum of its tests' points)")
    title: str = _meta("title shown to students", default="")


@dataclass(frozen=True)
class Assignment:
    id: str = _meta("assignment id, [a-z0-9_]+, unique")
    title: str = _meta("title shown to students")
    notebook: str = _meta("instructor's source notebook, relative to the course root")
    grader: str = _meta("pytest grader file, relative to the course root")
    tasks: tuple[Task, ...] = _meta("the tasks students are graded on", default=())
    limits: dict = _meta("overrides of defaults.limits", default_factory=dict)
    device: str | None = _meta("overrides defaults.device: cpu, cuda or auto", default=None)


@dataclass(frozen=True)
class Course:
    root: Path
    name: str
    variant_key: str
    default_limits: LimitsConfig
    default_device: str
    tolerances: dict[str, Tolerance]
    assignments: tuple[Assignment, ...]

    def assignment(self, assignment_id: str) -> Assignment:
        for a in self.assignments:
            if a.id == assignment_id:
                return a
        known = ", ".join(a.id for a in self.assignments)
        raise KeyError(f"no assignment {assignment_id!r} in course.yaml (known: {known})")

    def limits(self, assignment_id: str) -> LimitsConfig:
        overrides = self.assignment(assignment_id).limits
        return LimitsConfig(**{**self.default_limits.__dict__, **overrides})

    def device(self, assignment_id: str) -> str:
        device = self.assignment(assignment_id).device or self.default_device
        if device == "auto":
            import torch

            return "cuda" if torch.cuda.is_available() else "cpu"
        return device


class _Reader:
    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, key: str, message: str) -> CourseConfigError:
        return CourseConfigError(f"{self.path.name}: {key}: {message}")

    def mapping(self, value: Any, key: str, allowed: dict[str, Any], required: tuple[str, ...] = ()) -> dict:
        if not isinstance(value, dict):
            raise self.fail(key, f"expected a mapping, found {type(value).__name__}")
        for k in value:
            if k not in allowed:
                close = difflib.get_close_matches(str(k), list(allowed), n=1)
                hint = f"; did you mean {close[0]!r}?" if close else f"; known keys: {', '.join(allowed)}"
                raise self.fail(f"{key}.{k}" if key else str(k), f"unknown key{hint}")
        for k in required:
            if k not in value:
                raise self.fail(f"{key}.{k}" if key else k, "missing (required)")
        return value

    def typed(self, value: Any, key: str, kind: type | tuple, positive: bool = False) -> Any:
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if isinstance(value, bool) and bool not in kinds or not isinstance(value, kinds):
            names = " or ".join(k.__name__ for k in kinds)
            raise self.fail(key, f"expected {names}, found {value!r} ({type(value).__name__})")
        if positive and value <= 0:
            raise self.fail(key, f"expected a positive number, found {value!r}")
        return value


def _limits(r: _Reader, value: Any, key: str) -> dict:
    names = {f.name: f for f in fields(LimitsConfig)}
    r.mapping(value, key, names)
    return {k: r.typed(v, f"{key}.{k}", (int, float), positive=True) for k, v in value.items()}


def _device(r: _Reader, value: Any, key: str) -> str:
    if value not in ("cpu", "cuda", "auto"):
        raise r.fail(key, f"expected cpu, cuda or auto, found {value!r}")
    return value


def find_course_file(start: Path | None = None) -> Path:
    here = (start or Path.cwd()).resolve()
    if here.is_file():
        return here
    for folder in (here, *here.parents):
        if (folder / "course.yaml").is_file():
            return folder / "course.yaml"
    raise CourseConfigError(f"no course.yaml in {here} or any folder above it: run from inside the course repository")


def load_course(path: Path | str | None = None) -> Course:
    """The course manifest at `path` (a course.yaml or a folder inside the course; default: the current folder)."""
    file = find_course_file(Path(path) if path else None)
    r = _Reader(file)
    try:
        doc = yaml.safe_load(file.read_text())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "?"
        raise CourseConfigError(f"{file.name}: {where}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
    r.mapping(doc, "", {"course": 0, "defaults": 0, "assignments": 0}, ("course", "assignments"))
    course = r.mapping(doc["course"], "course", {"name": 0, "variant_key": 0}, ("name",))
    defaults = r.mapping(doc.get("defaults") or {}, "defaults", {"limits": 0, "device": 0, "tolerances": 0})
    default_limits = LimitsConfig(**_limits(r, defaults.get("limits", {}), "defaults.limits"))
    tolerances = {}
    for dtype, tol in (defaults.get("tolerances") or {}).items():
        if dtype not in ("float64", "float32", "float16"):
            raise r.fail(f"defaults.tolerances.{dtype}", "expected float64, float32 or float16")
        r.mapping(tol, f"defaults.tolerances.{dtype}", {"rtol": 0, "atol": 0}, ("rtol", "atol"))
        tolerances[dtype] = Tolerance(*(r.typed(tol[k], f"defaults.tolerances.{dtype}.{k}", (int, float), positive=True) for k in ("rtol", "atol")))
    items = doc["assignments"]
    if not isinstance(items, list) or not items:
        raise r.fail("assignments", "expected a non-empty list of assignments")
    allowed = {f.name: 0 for f in fields(Assignment)}
    seen: set[str] = set()
    assignments = []
    for i, item in enumerate(items):
        key = f"assignments[{i}]"
        r.mapping(item, key, allowed, ("id", "title", "notebook", "grader", "tasks"))
        aid = r.typed(item["id"], f"{key}.id", str)
        if not ID.match(aid):
            raise r.fail(f"{key}.id", f"expected lowercase letters, digits and _, found {aid!r}")
        if aid in seen:
            raise r.fail(f"{key}.id", f"duplicate assignment id {aid!r}")
        seen.add(aid)
        for k in ("notebook", "grader"):
            rel = r.typed(item[k], f"{key}.{k}", str)
            if not (file.parent / rel).is_file():
                raise r.fail(f"{key}.{k}", f"file {rel} does not exist (relative to {file.parent.name}/)")
        tasks, task_ids = [], set()
        if not isinstance(item["tasks"], list) or not item["tasks"]:
            raise r.fail(f"{key}.tasks", "expected a non-empty list of tasks")
        for j, task in enumerate(item["tasks"]):
            tkey = f"{key}.tasks[{j}]"
            r.mapping(task, tkey, {f.name: 0 for f in fields(Task)}, ("id", "points"))
            tid = r.typed(task["id"], f"{tkey}.id", str)
            if tid in task_ids:
                raise r.fail(f"{tkey}.id", f"duplicate task id {tid!r}")
            task_ids.add(tid)
            tasks.append(Task(tid, float(r.typed(task["points"], f"{tkey}.points", (int, float), positive=True)), str(task.get("title", ""))))
        assignments.append(Assignment(
            id=aid, title=r.typed(item["title"], f"{key}.title", str), notebook=item["notebook"], grader=item["grader"],
            tasks=tuple(tasks), limits=_limits(r, item.get("limits", {}), f"{key}.limits"),
            device=_device(r, item["device"], f"{key}.device") if "device" in item else None,
        ))
    return Course(
        root=file.parent, name=r.typed(course["name"], "course.name", str), variant_key=str(course.get("variant_key", "")),
        default_limits=default_limits, default_device=_device(r, defaults.get("device", "cpu"), "defaults.device"),
        tolerances=tolerances, assignments=tuple(assignments),
    )
