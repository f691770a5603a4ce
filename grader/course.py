"""The course manifest, course.yaml, read through a typed schema.

The schema is the frozen dataclasses below: one per mapping in the file, one field per key, and every field carries
its description, its default (where one makes sense) and its checks in the field's metadata. The generic
`_Reader` walks the YAML against them, so a key added here is validated, documented and shown by
`grader course show` at once. Every mistake raises CourseConfigError naming the file, the key path, the line, what
was found and what was expected, e.g.

    course.yaml: assignments[0].tasks[1].pionts (line 24): unknown key; did you mean 'points'?
"""
from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields, is_dataclass
from pathlib import Path
from types import MappingProxyType, UnionType
from typing import Any, Union, get_args, get_origin, get_type_hints

import yaml

COURSE_FILE = "course.yaml"
ID_PATTERN = re.compile(r"[a-z0-9_]+")  # matched in full
DEVICES = ("cpu", "cuda", "auto")
DTYPES = ("float64", "float32", "float16")
CALL_PATTERN = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+")  # a dotted name with its module: torch.autograd
NAME_PATTERN = re.compile(r"[A-Za-z_]\w*")


class CourseConfigError(Exception):
    """course.yaml is wrong (or missing); the message names the file, the key and what was expected."""


def key(description: str, default: Any = MISSING, default_factory: Any = MISSING, **checks: Any) -> Any:
    """A schema field: its description and checks live in the metadata, where `_Reader` and `course show` find them.

    Checks: positive (> 0), nonnegative (>= 0), choices (allowed values), pattern (an id regex), file (an existing
    file relative to the course root, with this suffix), nonempty (a list), unique (the attribute of list items that
    must not repeat), keys (allowed keys of a dtype table), partial (a mapping of overrides of that dataclass's fields;
    in a table, of each value's), elsewhere (a dataclass whose keys belong at another level, with the level's name:
    a misplaced key gets an error saying where it goes).
    """
    return field(default=default, default_factory=default_factory, metadata={"description": description, **checks})


def _no_entries() -> Mapping[str, Any]:
    return MappingProxyType({})


@dataclass(frozen=True, kw_only=True)
class CourseInfo:
    name: str = key("course title, shown in reports")
    variant_key: str = key("public key for per-student numbers (HMAC of key, student id, task)", default="")


@dataclass(frozen=True, kw_only=True)
class LimitsConfig:
    submission_seconds: float = key("wall clock for grading one submission", default=120.0, positive=True)
    call_seconds: float = key("wall clock for one call into the student's code", default=10.0, positive=True)
    cpu_seconds: int = key("CPU time of one submission's worker", default=120, positive=True)
    memory_mb: int = key("memory a worker may add on top of the preloaded numpy and torch", default=3072, positive=True)
    output_kb: int = key("printed output kept for the report", default=256, positive=True)
    file_mb: int = key("largest file (and scratch folder) a worker may write", default=16, positive=True)


@dataclass(frozen=True, kw_only=True)
class TaskLimits:
    """The limits one task may change: those of one call into the student's code (a worker's memory, CPU time and
    files, and the submission's wall clock, are shared by all tasks, so they are the assignment's)."""

    call_seconds: float = key(
        "wall clock for one call the task's tests make into the student's code (calls that pass their own timeout keep "
        "it)", positive=True,
    )


@dataclass(frozen=True, kw_only=True)
class Tolerance:
    rtol: float = key("relative tolerance", positive=True)
    atol: float = key("absolute tolerance", nonnegative=True)


TOLERANCES_DESCRIPTION = (
    "(rtol, atol) by the dtype a student returns, e.g. float32: {rtol: 1.0e-4, atol: 1.0e-5}; either key may be left "
    "out. Each dtype and key is taken from the task, else the assignment, else defaults, else grader/compare.py's table"
)


def _tolerances_key(level: str) -> Any:
    return key(f"{TOLERANCES_DESCRIPTION} ({level})", default_factory=_no_entries, keys=DTYPES, partial=Tolerance)


@dataclass(frozen=True, kw_only=True)
class Defaults:
    limits: Mapping[str, float] = key(
        "sandbox budgets of every assignment (keys as in LimitsConfig; unnamed ones keep their built-in default)",
        default_factory=_no_entries, partial=LimitsConfig,
    )
    device: str = key("device policy: cpu | cuda | auto (auto = cuda when available)", default="cpu", choices=DEVICES)
    tolerances: Mapping[str, Mapping[str, float]] = _tolerances_key("every assignment's")


@dataclass(frozen=True, kw_only=True)
class Forbidden:
    """What a task's students may not call: enforced by grader/shortcuts.py (static) and the worker (at run time)."""

    calls: tuple[str, ...] = key(
        "qualified names the task's code may not use: a function, class or module (torch.nn.functional.conv2d, "
        "torch.autograd, torch.nn.Conv2d) or a Tensor method (torch.Tensor.backward, matched as any `.backward`)",
        nonempty=True, item_pattern=CALL_PATTERN,
    )
    functions: tuple[str, ...] = key(
        "the student's functions or classes (answer-cell names) the rule covers, with everything they call",
        nonempty=True, item_pattern=NAME_PATTERN,
    )
    reason: str = key(
        "what students see as the reason: a sentence of the notebook's text, quoted verbatim (course validate checks "
        "it is there, so the release's words and the policy come from one source)",
    )


@dataclass(frozen=True, kw_only=True)
class Task:
    id: str = key("task id, [a-z0-9_]+, unique in the assignment; graders mark tests with it", pattern=ID_PATTERN)
    points: float = key("points of the task (the sum of its tests' points)", positive=True)
    title: str = key("title shown to students", default="")
    forbidden: Forbidden | None = key("calls this task's code may not make, and why (none: anything goes)", default=None)
    tolerances: Mapping[str, Mapping[str, float]] = _tolerances_key("while this task's tests run")
    limits: Mapping[str, float] = key(
        "overrides of the assignment's limits while this task's tests run: call_seconds",
        default_factory=_no_entries, partial=TaskLimits, elsewhere=(LimitsConfig, "the assignment's limits"),
    )


@dataclass(frozen=True, kw_only=True)
class Assignment:
    id: str = key("assignment id, [a-z0-9_]+, unique in the course", pattern=ID_PATTERN)
    title: str = key("title shown to students")
    notebook: str = key("instructor's source notebook (nbgrader source), relative to the course root", file=".ipynb")
    grader: str = key("pytest grader file, relative to the course root", file=".py")
    tasks: tuple[Task, ...] = key("the tasks students are graded on", nonempty=True, unique="id")
    limits: Mapping[str, float] = key(
        "overrides of defaults.limits, same keys", default_factory=_no_entries, partial=LimitsConfig
    )
    tolerances: Mapping[str, Mapping[str, float]] = _tolerances_key("overriding defaults.tolerances")
    device: str | None = key("overrides defaults.device: cpu | cuda | auto", default=None, choices=DEVICES)
    due: str | None = key("due date, ISO 8601 with a UTC offset, e.g. 2027-01-15T23:59:00+01:00", default=None)
    late_policy: str | None = key("none | cutoff | per_day:PERCENT[,max_days:N] (applied after `due`)", default=None)
    kit: bool = key("build a student kit (kits/<id>/) with the release; false where the public checks cannot run "
                    "from recorded data alone (a05-a07: trained models)", default=True)

    @property
    def points(self) -> float:
        return sum(t.points for t in self.tasks)


@dataclass(frozen=True, kw_only=True)
class Manifest:
    """course.yaml as written (the top level of the file)."""

    course: CourseInfo = key("the course's name and variant key")  # noqa: RUF009 - key() returns a dataclass field
    defaults: Defaults = key(  # noqa: RUF009 - key() returns a dataclass field
        "settings every assignment inherits unless it overrides them", default_factory=Defaults
    )
    assignments: tuple[Assignment, ...] = key("the assignments, in course order", nonempty=True, unique="id")


COMPARE_ORIGIN = "grader/compare.py"  # where the built-in tolerances come from (origin of a value nobody set)


@dataclass(frozen=True)
class TaskSettings:
    """The effective tolerances and call limit of one task's tests: the task's own over the assignment's.

    `origin` is keyed like Settings'; a value the task sets has the origin "tasks.<id>".
    """

    id: str
    tolerances: Mapping[str, Tolerance]
    call_seconds: float
    origin: Mapping[str, str]

    @property
    def own(self) -> str:
        """The origin of the values this task sets itself."""
        return f"tasks.{self.id}"

    def own_tolerances(self) -> dict[str, tuple[float, float]]:
        """(rtol, atol) of each dtype the task changes (either key), complete: what grading swaps in for its tests."""
        return {
            dtype: (t.rtol, t.atol) for dtype, t in self.tolerances.items()
            if self.own in (self.origin[f"tolerances.{dtype}.rtol"], self.origin[f"tolerances.{dtype}.atol"])
        }

    @property
    def own_call_seconds(self) -> float | None:
        """The task's own call limit, None when it keeps the assignment's."""
        return self.call_seconds if self.origin["limits.call_seconds"] == self.own else None


@dataclass(frozen=True)
class Settings:
    """The effective settings of one assignment: course.yaml's defaults merged with the assignment's overrides, and
    each task's tolerances and call limit merged over those.

    `origin` says where each value came from ("assignment", "defaults", "built-in" or "grader/compare.py"), keyed like
    "limits.call_seconds", "device" and "tolerances.float32.rtol".
    """

    limits: LimitsConfig
    device: str
    tolerances: Mapping[str, Tolerance]
    origin: Mapping[str, str]
    tasks: Mapping[str, TaskSettings]


@dataclass(frozen=True)
class Course:
    """A loaded course: its manifest and the folder it lives in (paths in the manifest are relative to it)."""

    path: Path
    manifest: Manifest

    @property
    def root(self) -> Path:
        return self.path.parent

    @property
    def name(self) -> str:
        return self.manifest.course.name

    @property
    def variant_key(self) -> str:
        return self.manifest.course.variant_key

    @property
    def assignments(self) -> tuple[Assignment, ...]:
        return self.manifest.assignments

    @property
    def default_limits(self) -> LimitsConfig:
        """defaults.limits over the schema's built-in defaults."""
        return LimitsConfig(**self.manifest.defaults.limits)

    @property
    def default_device(self) -> str:
        return self.manifest.defaults.device

    @property
    def tolerances(self) -> Mapping[str, Mapping[str, float]]:
        """defaults.tolerances as written (partial per dtype); settings() gives the effective, merged values."""
        return self.manifest.defaults.tolerances

    def assignment(self, assignment_id: str) -> Assignment:
        for a in self.assignments:
            if a.id == assignment_id:
                return a
        known = ", ".join(a.id for a in self.assignments)
        raise KeyError(f"no assignment {assignment_id!r} in {self.path.name} (known: {known})")

    def limits(self, assignment_id: str) -> LimitsConfig:
        """The assignment's limits: defaults.limits with its own overrides on top."""
        return self.settings(assignment_id).limits

    def device(self, assignment_id: str) -> str:
        """The device to grade on: the policy, with `auto` resolved on this machine."""
        device = self.settings(assignment_id).device
        if device == "auto":
            import torch

            return "cuda" if torch.cuda.is_available() else "cpu"
        return device

    def settings(self, assignment_id: str) -> Settings:
        from grader.compare import TOLERANCES  # numpy only; the table's defaults are explained there

        assignment = self.assignment(assignment_id)
        origin: dict[str, str] = {}
        for f in fields(LimitsConfig):
            origin[f"limits.{f.name}"] = (
                "assignment" if f.name in assignment.limits
                else "defaults" if f.name in self.manifest.defaults.limits else "built-in"
            )
        limits = LimitsConfig(**{**self.manifest.defaults.limits, **assignment.limits})
        origin["device"] = "assignment" if assignment.device else "defaults"
        built_in = {dtype: {"rtol": rtol, "atol": atol} for dtype, (rtol, atol) in TOLERANCES.items()}
        layers = [(COMPARE_ORIGIN, built_in), ("defaults", self.tolerances), ("assignment", assignment.tolerances)]
        tolerances = _merge_tolerances(layers, origin)
        tasks = {}
        for task in assignment.tasks:
            own = f"tasks.{task.id}"
            task_origin = {k: v for k, v in origin.items() if k.startswith("tolerances.")}
            task_origin["limits.call_seconds"] = own if "call_seconds" in task.limits else origin["limits.call_seconds"]
            tasks[task.id] = TaskSettings(
                id=task.id,
                tolerances=MappingProxyType(_merge_tolerances([*layers, (own, task.tolerances)], task_origin)),
                call_seconds=task.limits.get("call_seconds", limits.call_seconds),
                origin=MappingProxyType(task_origin),
            )
        return Settings(
            limits=limits,
            device=assignment.device or self.default_device,
            tolerances=MappingProxyType(tolerances),
            origin=MappingProxyType(origin),
            tasks=MappingProxyType(tasks),
        )


def _merge_tolerances(
    layers: list[tuple[str, Mapping[str, Mapping[str, float]]]], origin: dict[str, str]
) -> dict[str, Tolerance]:
    """Each dtype's rtol and atol from the last layer that sets it (layers go from the built-in table to the most
    specific); `origin` gets the layer's name for each "tolerances.<dtype>.<key>"."""
    merged: dict[str, Tolerance] = {}
    for dtype in layers[0][1]:
        values = {}
        for name in ("rtol", "atol"):
            where, value = next((w, table[dtype][name]) for w, table in reversed(layers) if name in table.get(dtype, {}))
            values[name] = value
            origin[f"tolerances.{dtype}.{name}"] = where
        merged[dtype] = Tolerance(**values)
    return merged


# --- finding and reading the file -----------------------------------------------------------------------------


def find_course_file(start: Path | None = None) -> Path:
    """course.yaml itself when `start` is a file, else the first course.yaml in `start` (default: cwd) or above it."""
    if start is not None and not Path(start).exists():
        raise CourseConfigError(f"{start} does not exist: give a course.yaml or a folder inside the course")
    here = Path(start or Path.cwd()).resolve()
    if here.is_file():
        return here
    for folder in (here, *here.parents):
        if (folder / COURSE_FILE).is_file():
            return folder / COURSE_FILE
    raise CourseConfigError(
        f"no {COURSE_FILE} in {here} or any folder above it: run from inside the course repository or pass --course"
    )


def load_course(path: Path | str | None = None) -> Course:
    """The course at `path`: a course.yaml, or a folder inside the course (default: the current folder)."""
    file = find_course_file(Path(path) if path is not None else None)
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CourseConfigError(f"{file}: cannot be read ({exc})") from None
    reader = _Reader(file)
    doc = reader.parse_yaml(text)
    if doc is None:
        raise reader.fail("", None, "the file is empty; expected a mapping with keys course, defaults, assignments")
    manifest = reader.read(Manifest, doc, "", None)
    return Course(path=file, manifest=manifest)


class _Map(dict):
    """A YAML mapping that remembers the line of each key (for error messages)."""

    lines: dict[Any, int]


class _Seq(list):
    """A YAML sequence that remembers the line of each item."""

    lines: list[int]


class _Loader(yaml.SafeLoader):
    """SafeLoader that records line numbers and refuses a key written twice in one mapping."""


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> _Map:
    result = _Map()
    result.lines = {}
    own = sum(1 for key_node, _ in node.value if key_node.tag != "tag:yaml.org,2002:merge")
    loader.flatten_mapping(node)  # `<<: *anchor` entries come first, the mapping's own keys after (and win)
    first_own = len(node.value) - own
    own_keys: set[Any] = set()
    for index, (key_node, value_node) in enumerate(node.value):
        k = loader.construct_object(key_node, deep=True)
        if index >= first_own:
            if k in own_keys:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {k!r} appears twice in the same mapping (the second would silently win)",
                    key_node.start_mark,
                )
            own_keys.add(k)
        result[k] = loader.construct_object(value_node, deep=True)
        result.lines[k] = key_node.start_mark.line + 1
    return result


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode) -> _Seq:
    result = _Seq(loader.construct_object(child, deep=True) for child in node.value)
    result.lines = [child.start_mark.line + 1 for child in node.value]
    return result


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)

_KIND_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "true or false"}


def _found(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return f"a {'mapping' if isinstance(value, dict) else 'list'}"
    text = repr(value)
    return f"{text if len(text) <= 60 else text[:57] + '...'} ({type(value).__name__})"


class _Reader:
    """Reads YAML values into the schema's dataclasses; every failure names the file, key path and line."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.root = path.parent

    def fail(self, where: str, line: int | None, message: str) -> CourseConfigError:
        at = f" (line {line})" if line else ""
        return CourseConfigError(f"{self.path.name}: {where or '(top level)'}{at}: {message}")

    def parse_yaml(self, text: str) -> Any:
        try:
            return yaml.load(text, Loader=_Loader)  # a SafeLoader subclass: no arbitrary objects
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"line {mark.line + 1}" if mark else "(unknown line)"
            problem = getattr(exc, "problem", None) or str(exc)
            context, context_mark = getattr(exc, "context", None), getattr(exc, "context_mark", None)
            if context and context_mark and (not mark or context_mark.line != mark.line):
                context = f"{context} that starts on line {context_mark.line + 1}"
            detail = f"{problem} ({context})" if context else problem
            raise CourseConfigError(f"{self.path.name}: {where}: not valid YAML: {detail}") from None

    def read(self, cls: type, value: Any, where: str, line: int | None, partial: bool = False,
             elsewhere: tuple[type, str] | None = None) -> Any:
        """`value` as an instance of the dataclass `cls` (or, with partial, a read-only dict of the keys given).

        `elsewhere` (a dataclass, and the name of the level its keys belong to) turns an unknown key that is one of
        its fields into an error saying where that key goes.
        """
        if not isinstance(value, dict):
            names = ", ".join(f.name for f in fields(cls))
            raise self.fail(where, line, f"expected a mapping with keys {names}, found {_found(value)}")
        schema = {f.name: f for f in fields(cls)}
        lines = getattr(value, "lines", {})
        for k in value:
            if k not in schema:
                if elsewhere and k in {f.name for f in fields(elsewhere[0])}:
                    message = (f"{k} cannot be set here, only {', '.join(schema)} can; set {k} in {elsewhere[1]} "
                               "instead")
                    raise self.fail(_join(where, k), lines.get(k, line), message)
                close = difflib.get_close_matches(str(k), list(schema), n=1, cutoff=0.6)
                hint = f"did you mean {close[0]!r}?" if close else f"expected one of: {', '.join(schema)}"
                raise self.fail(_join(where, k), lines.get(k, line), f"unknown key; {hint}")
        if not partial:
            for f in schema.values():
                if f.name not in value and f.default is MISSING and f.default_factory is MISSING:
                    message = f"required key is missing ({f.metadata['description']})"
                    raise self.fail(_join(where, f.name), line, message)
        hints = get_type_hints(cls)
        given = {k: self.convert(hints[k], schema[k], value[k], _join(where, k), lines.get(k, line)) for k in value}
        if partial:
            return MappingProxyType(given)
        return cls(**given)

    def convert(self, hint: Any, f: Any, value: Any, where: str, line: int | None) -> Any:
        meta = f.metadata
        origin, args = get_origin(hint), get_args(hint)
        if origin in (Union, UnionType) and type(None) in args:  # an optional override
            if value is None:
                return None
            hint = next(a for a in args if a is not type(None))
            origin, args = get_origin(hint), get_args(hint)
        if "partial" in meta and "keys" not in meta:
            return self.read(meta["partial"], value, where, line, partial=True, elsewhere=meta.get("elsewhere"))
        if is_dataclass(hint):
            return self.read(hint, value, where, line)
        if origin is tuple:
            return self.sequence(args[0], f, value, where, line)
        if origin is Mapping:
            return self.table(args[1], f, value, where, line)
        return self.scalar(hint, meta, value, where, line)

    def sequence(self, item_type: type, f: Any, value: Any, where: str, line: int | None) -> tuple:
        meta = f.metadata
        noun = "name" if item_type is str else item_type.__name__.lower()
        if not isinstance(value, list):
            raise self.fail(where, line, f"expected a list of {noun}s, found {_found(value)}")
        if meta.get("nonempty") and not value:
            raise self.fail(where, line, f"expected at least one {noun}, found an empty list")
        lines = getattr(value, "lines", [line] * len(value))
        if item_type is str:
            return tuple(self.name(meta["item_pattern"], v, f"{where}[{i}]", lines[i]) for i, v in enumerate(value))
        items = tuple(self.read(item_type, v, f"{where}[{i}]", lines[i]) for i, v in enumerate(value))
        if meta.get("unique"):
            seen: dict[Any, int] = {}
            for i, item in enumerate(items):
                ident = getattr(item, meta["unique"])
                if ident in seen:
                    raise self.fail(
                        f"{where}[{i}].{meta['unique']}", lines[i],
                        f"duplicate {item_type.__name__.lower()} {meta['unique']} {ident!r} "
                        f"(also at {where}[{seen[ident]}]); expected each to be unique",
                    )
                seen[ident] = i
        return items

    def table(self, value_type: type, f: Any, value: Any, where: str, line: int | None) -> Mapping:
        allowed = f.metadata["keys"]
        if not isinstance(value, dict):
            raise self.fail(where, line, f"expected a mapping keyed by {', '.join(allowed)}, found {_found(value)}")
        lines = getattr(value, "lines", {})
        for k in value:
            if k not in allowed:
                close = difflib.get_close_matches(str(k), allowed, n=1, cutoff=0.6)
                hint = f"did you mean {close[0]!r}?" if close else f"expected one of: {', '.join(allowed)}"
                raise self.fail(_join(where, k), lines.get(k, line), f"unknown key; {hint}")
        cls, partial = (f.metadata["partial"], True) if "partial" in f.metadata else (value_type, False)
        for k, v in value.items():
            if partial and v == {}:  # an entry that overrides nothing is a slip, not a choice
                names = " or ".join(g.name for g in fields(cls))
                raise self.fail(_join(where, k), lines.get(k, line), f"expected {names} (or both), found an empty mapping")
        return MappingProxyType(
            {k: self.read(cls, v, _join(where, k), lines.get(k, line), partial=partial) for k, v in value.items()}
        )

    def scalar(self, kind: type, meta: Mapping, value: Any, where: str, line: int | None) -> Any:
        accepted = (int, float) if kind is float else kind  # an integer is a fine number; a bool is neither
        if (isinstance(value, bool) and kind is not bool) or not isinstance(value, accepted):
            raise self.fail(where, line, f"expected {_KIND_NAMES.get(kind, kind.__name__)}, found {_found(value)}")
        if meta.get("positive") and value <= 0:
            raise self.fail(where, line, f"expected a positive number, found {_found(value)}")
        if meta.get("nonnegative") and value < 0:
            raise self.fail(where, line, f"expected a number >= 0, found {_found(value)}")
        if "choices" in meta and value not in meta["choices"]:
            raise self.fail(where, line, f"expected one of {', '.join(meta['choices'])}, found {value!r}")
        if "pattern" in meta and not meta["pattern"].fullmatch(value):
            message = f"expected an id of lowercase letters, digits and _ ([a-z0-9_]+), found {value!r}"
            raise self.fail(where, line, message)
        if "file" in meta:
            self.check_file(value, meta["file"], where, line)
        return float(value) if kind is float else value

    def name(self, pattern: re.Pattern, value: Any, where: str, line: int | None) -> str:
        if not isinstance(value, str) or not pattern.fullmatch(value):
            shape = "a dotted name with its module, such as torch.nn.functional.conv2d" if pattern is CALL_PATTERN \
                else "a Python name, such as conv2d"
            raise self.fail(where, line, f"expected {shape}, found {_found(value)}")
        return value

    def check_file(self, rel: str, suffix: str, where: str, line: int | None) -> None:
        path = Path(rel)
        if path.is_absolute() or ".." in path.parts:
            raise self.fail(where, line, f"expected a path inside the course, relative to {self.root}, found {rel!r}")
        if path.suffix != suffix:
            raise self.fail(where, line, f"expected a {suffix} file, found {rel!r}")
        if not (self.root / path).is_file():
            raise self.fail(where, line, f"expected an existing file, found {rel!r}: no such file in {self.root}")


def _join(where: str, k: Any) -> str:
    return f"{where}.{k}" if where else str(k)


# --- checks that read the files the manifest names (grader course validate) -------------------------------------


def check_course(course: Course) -> None:
    """What loading cannot see: each task's points against its tests' markers, and each forbidden-call rule against
    the notebook (its functions are answers there, its reason is the notebook's own words) and the libraries.

    Raises CourseConfigError naming the assignment, the task and both sides of the disagreement.
    """
    from grader.deadlines import DeadlineError, parse_policy, parse_time

    for i, assignment in enumerate(course.assignments):
        where = f"assignments[{i}]"
        try:
            if assignment.due is not None:
                parse_time(assignment.due)
            parse_policy(assignment.late_policy)
        except DeadlineError as exc:
            raise CourseConfigError(f"{course.path.name}: {where} ({assignment.id}): {exc}") from None
        if assignment.late_policy not in (None, "none") and assignment.due is None:
            raise CourseConfigError(f"{course.path.name}: {where} ({assignment.id}): late_policy needs a `due` date")
        grader = course.root / assignment.grader
        tests = grader_test_points(grader)
        by_task: dict[str, list[tuple[str, float]]] = {}
        for test, task, points in tests:
            if task is None:
                raise CourseConfigError(
                    f"{course.path.name}: {where}.grader: {assignment.grader}: {test} has no @pytest.mark.task(...); "
                    "every grader test belongs to a task, so that its points count for that task"
                )
            by_task.setdefault(task, []).append((test, points))
        declared = {t.id for t in assignment.tasks}
        for task in by_task.keys() - declared:
            raise CourseConfigError(
                f"{course.path.name}: {where}.tasks: {assignment.grader} has tests of task {task!r} "
                f"({', '.join(name for name, _ in by_task[task])}), which {course.path.name} does not list; "
                f"add it, or mark those tests with one of: {', '.join(sorted(declared))}"
            )
        for j, task in enumerate(assignment.tasks):
            found = by_task.get(task.id, [])
            total = sum(points for _, points in found)
            if abs(total - task.points) > 1e-9:
                detail = " + ".join(f"{name} {points:g}" for name, points in found) or "no tests"
                raise CourseConfigError(
                    f"{course.path.name}: {where}.tasks[{j}].points: task {task.id!r} is worth {task.points:g} points "
                    f"in {course.path.name}, but its tests in {assignment.grader} add up to {total:g} ({detail}); "
                    "grading counts the tests' @pytest.mark.points, so make the two agree"
                )
        rules = [(j, t) for j, t in enumerate(assignment.tasks) if t.forbidden is not None]
        if rules:
            _check_forbidden(course, assignment, where, rules)


def grader_test_points(path: Path) -> list[tuple[str, str | None, float]]:
    """(test name, task, points) of every test in a grader file, read from its decorators without importing it.

    A test's points are its `@pytest.mark.points(N)` times the number of its literal `parametrize` cases.
    """
    import ast

    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except (OSError, SyntaxError, UnicodeDecodeError) as exc:
        raise CourseConfigError(f"{path.name}: cannot be read to count its points ({exc})") from None
    found = []
    bodies = [tree.body] + [n.body for n in tree.body if isinstance(n, ast.ClassDef) and n.name.startswith("Test")]
    for body in bodies:
        for node in body:
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) or not node.name.startswith("test"):
                continue
            marks = {}
            cases = 1
            for d in node.decorator_list:
                if isinstance(d, ast.Call) and isinstance(d.func, ast.Attribute):
                    marks[d.func.attr] = d
            points = _literal_arg(marks.get("points"))
            if not isinstance(points, (int, float)) or isinstance(points, bool):
                raise CourseConfigError(
                    f"{path.name}: {node.name} (line {node.lineno}) has no @pytest.mark.points(N) with a literal number"
                )
            if "parametrize" in marks:
                call = marks["parametrize"]
                values = call.args[1] if len(call.args) > 1 else None
                if not isinstance(values, (ast.List, ast.Tuple)):
                    raise CourseConfigError(
                        f"{path.name}: {node.name} (line {node.lineno}): its parametrize cases are not a literal list, "
                        "so its points cannot be counted; write the cases out"
                    )
                cases = len(values.elts)
            task = _literal_arg(marks.get("task"))
            found.append((node.name, task if isinstance(task, str) else None, float(points) * cases))
    return found


def _literal_arg(call: Any) -> Any:
    import ast

    if call is None or len(call.args) != 1:
        return None
    try:
        return ast.literal_eval(call.args[0])
    except ValueError:
        return None


def _check_forbidden(course: Course, assignment: Assignment, where: str, rules: list[tuple[int, Task]]) -> None:
    import nbformat

    from grader.shortcuts import defined_names, resolve_qualified

    notebook = nbformat.read(str(course.root / assignment.notebook), as_version=4)
    text = " ".join(" ".join(c.source.split()) for c in notebook.cells if c.cell_type == "markdown")
    answers = "\n".join(c.source for c in notebook.cells if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution"))
    defined = defined_names(answers)
    for j, task in rules:
        rule, at = task.forbidden, f"{course.path.name}: {where}.tasks[{j}].forbidden"
        if " ".join(rule.reason.split()) not in text:
            raise CourseConfigError(
                f"{at}.reason: {rule.reason!r} is not in the text of {assignment.notebook}; quote the notebook's "
                "sentence that forbids the calls, word for word, so that students are told what they are graded on"
            )
        for k, name in enumerate(rule.functions):
            if name not in defined:
                raise CourseConfigError(
                    f"{at}.functions[{k}]: {name!r} is not defined in the answer cells of {assignment.notebook} "
                    f"(they define: {', '.join(sorted(defined))})"
                )
        for k, name in enumerate(rule.calls):
            if resolve_qualified(name, import_modules=True) is None:
                raise CourseConfigError(f"{at}.calls[{k}]: {name!r} names nothing that can be imported; check the spelling")
