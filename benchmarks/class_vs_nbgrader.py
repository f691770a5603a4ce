"""A class of submissions graded by `grader autograde` and by nbgrader's own autograde, in the same run.

    python benchmarks/class_vs_nbgrader.py [--students 100] [--workers 1 2] [--workdir DIR] [--skip-nbgrader]

Builds, in a temporary nbgrader course folder:
  1. an nbgrader-native version of a00_warmup: our source notebook with each `check(...)` cell turned into an
     nbgrader autograded test cell (the same checks as our grader, as asserts; the hidden ones in a
     `### BEGIN HIDDEN TESTS` region), released with nbgrader's generate_assignment;
  2. `--students` submissions in nbgrader's submitted/<student>/a00_warmup/ layout, filled-in releases mixed as a
     class is: 60 % correct (two styles), 25 % wrong, 10 % crashing (exceptions, os._exit), 5 % malicious (an
     infinite loop, a patched comparison function, file writes, reading /etc/passwd). Fork and memory bombs are left
     out because nbgrader has no limits and would take the benchmark machine down;
then times nbgrader's autograde (all students, one after another, as nbgrader does; cell timeout 10 s like our
call limit) and ours on the same files for each number of local workers, and prints the ratio and where the
scores disagree. Record the output in benchmarks/RESULTS.md with the machine and date.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.autograde import LocalExecutor, autograde, find_submissions  # noqa: E402
from grader.course import load_course  # noqa: E402
from grader.gradebook import Gradebook  # noqa: E402
from grader.release import _alembic_head_in_process  # noqa: E402

AID = "a00_warmup"
TIMEOUT_S = 10

TESTS = {  # grade_id of the check cell -> (points, public asserts, hidden asserts), the checks of our grader
    "check-sigmoid": (2, """import numpy as np
x = torch.from_numpy(np.random.default_rng(0).normal(0, 3, (4, 5)))
assert np.allclose(np.asarray(sigmoid(x), dtype=float), 1 / (1 + np.exp(-x.numpy())))""",
        """x = torch.from_numpy(np.random.default_rng(1).normal(0, 40, (2, 3, 4)))
out = np.asarray(sigmoid(x), dtype=float)
assert out.shape == (2, 3, 4) and np.all(np.isfinite(out)) and np.allclose(out, 1 / (1 + np.exp(-x.numpy())))"""),
    "check-relu": (1, """import numpy as np
x = torch.from_numpy(np.random.default_rng(2).normal(size=(6, 7)))
assert np.allclose(np.asarray(relu(x), dtype=float), np.maximum(0, x.numpy()))""", ""),
    "check-softmax": (3, """import numpy as np
x = torch.from_numpy(np.random.default_rng(3).normal(size=(5, 4)))
e = np.exp(x.numpy()); assert np.allclose(np.asarray(softmax(x), dtype=float), e / e.sum(-1, keepdims=True))""",
        """x = torch.from_numpy(1000 + np.random.default_rng(4).normal(0, 5, (3, 6)))
z = x.numpy() - x.numpy().max(-1, keepdims=True); e = np.exp(z)
assert np.allclose(np.asarray(softmax(x), dtype=float), e / e.sum(-1, keepdims=True))
x = torch.from_numpy(np.random.default_rng(5).normal(size=(3, 5)))
e = np.exp(x.numpy()); assert np.allclose(np.asarray(softmax(x, dim=0), dtype=float), e / e.sum(0, keepdims=True))"""),
}

CORRECT = {
    "sigmoid": "def sigmoid(x):\n    return 1.0 / (1.0 + torch.exp(-x))\n",
    "relu": "def relu(x):\n    return torch.clamp(x, min=0.0)\n",
    "softmax": "def softmax(x, dim=-1):\n    e = torch.exp(x - x.max(dim=dim, keepdim=True).values)\n    return e / e.sum(dim=dim, keepdim=True)\n",
}
KINDS: list[tuple[str, float, dict[str, str]]] = [
    ("correct", 0.40, CORRECT),
    ("correct-builtins", 0.20, {"sigmoid": "def sigmoid(x):\n    return torch.sigmoid(x)\n",
                                "relu": "def relu(x):\n    return torch.relu(x)\n",
                                "softmax": "def softmax(x, dim=-1):\n    return torch.softmax(x, dim=dim)\n"}),
    ("wrong-axis-and-leaky", 0.15, {**CORRECT, "relu": "def relu(x):\n    return torch.where(x > 0, x, 0.01 * x)\n",
                                    "softmax": "def softmax(x, dim=-1):\n    e = torch.exp(x)\n    return e / e.sum(dim=0, keepdim=True)\n"}),
    ("wrong-unstable", 0.10, {**CORRECT, "softmax": "def softmax(x, dim=-1):\n    e = torch.exp(x)\n    return e / e.sum(dim=dim, keepdim=True)\n"}),
    ("crash-exception", 0.05, {**CORRECT, "sigmoid": "def sigmoid(x):\n    raise ValueError('oops')\n"}),
    ("crash-exit", 0.05, {**CORRECT, "relu": "import os\ndef relu(x):\n    os._exit(3)\n"}),
    ("malicious-loop", 0.02, {**CORRECT, "relu": "def relu(x):\n    while True:\n        pass\n"}),
    ("malicious-patch", 0.02, {"sigmoid": "import numpy as np\nnp.allclose = lambda *a, **k: True\ndef sigmoid(x):\n    return x\n",
                               "relu": "def relu(x):\n    return x\n", "softmax": "def softmax(x, dim=-1):\n    return x\n"}),
    ("malicious-files", 0.01, {**CORRECT, "sigmoid": "import os\nopen(os.path.expanduser('~/pwned.txt'), 'w').write('x')\n"
                               "secret = open('/etc/passwd').read()\ndef sigmoid(x):\n    return 1.0 / (1.0 + torch.exp(-x))\n"}),
]


def nbgrader_source(course, folder: Path) -> Path:
    """Our source notebook with the check cells as nbgrader autograded test cells."""
    nb = nbformat.read(str(course.root / course.assignment(AID).notebook), as_version=4)
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade_id") == "imports":
            cell.source = "import torch"
        if meta.get("grade_id") in TESTS:
            points, public, hidden = TESTS[meta["grade_id"]]
            cell.source = public + (f"\n### BEGIN HIDDEN TESTS\n{hidden}\n### END HIDDEN TESTS" if hidden else "")
            cell.metadata["nbgrader"] = {**meta, "grade": True, "points": points, "locked": True, "solution": False}
    path = folder / "source" / AID / f"{AID}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path


def nbgrader_api(folder: Path):
    from nbgrader.apps import NbGraderAPI
    from traitlets.config import Config

    config = Config()
    config.CourseDirectory.root = str(folder)
    config.CourseDirectory.db_url = f"sqlite:///{folder / 'gradebook.db'}"
    config.Exchange.root = str(folder / "exchange")
    config.ExecutePreprocessor.timeout = TIMEOUT_S
    config.Execute.timeout = TIMEOUT_S
    (folder / "exchange").mkdir(exist_ok=True)
    log = logging.getLogger("nbgrader-benchmark")
    log.handlers[:] = [logging.StreamHandler(io.StringIO())]
    log.propagate = False
    return NbGraderAPI(config=config, log=log)


def make_class(folder: Path, students: int, seed: int = 0) -> dict[str, str]:
    release = nbformat.read(str(folder / "release" / AID / f"{AID}.ipynb"), as_version=4)
    rng = random.Random(seed)
    counts = [max(1, round(share * students)) for _, share, _ in KINDS]
    counts[0] += students - sum(counts)
    kinds = [name for (name, _, _), n in zip(KINDS, counts) for _ in range(n)]
    rng.shuffle(kinds)
    cells_of = {name: cells for name, _, cells in KINDS}
    who = {}
    for i, kind in enumerate(kinds):
        student = f"st{i:03d}"
        nb = nbformat.from_dict(json.loads(json.dumps(release)))
        for cell in nb.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if cell.metadata.get("nbgrader", {}).get("solution") and grade_id in cells_of[kind]:
                cell.source = cells_of[kind][grade_id]
        target = folder / "submitted" / student / AID / f"{AID}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, str(target))
        who[student] = kind
    return who


def run_nbgrader(folder: Path, students: list[str]) -> tuple[float, dict[str, float]]:
    api = nbgrader_api(folder)
    start = time.perf_counter()
    sink = io.StringIO()
    with _alembic_head_in_process(), contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        for i, student in enumerate(students):
            api.autograde(AID, student, force=True, create=True)
            print(f"\r  nbgrader: {i + 1}/{len(students)} graded, {time.perf_counter() - start:.0f} s", end="", file=sys.__stderr__)
    seconds = time.perf_counter() - start
    print(file=sys.__stderr__)
    from nbgrader.api import Gradebook as NbGradebook

    scores = {}
    with NbGradebook(f"sqlite:///{folder / 'gradebook.db'}") as gb:
        for student in students:
            try:
                scores[student] = gb.find_submission(AID, student).score
            except Exception:
                scores[student] = float("nan")
    return seconds, scores


def run_ours(folder: Path, workers: int) -> tuple[float, dict[str, float]]:
    course = load_course(ROOT / "course.yaml")
    gradebook = folder / f"ours-{workers}.sqlite"
    gradebook.unlink(missing_ok=True)
    start = time.perf_counter()
    autograde(find_submissions(folder, course, AID), course, gradebook, executor=LocalExecutor(workers))
    seconds = time.perf_counter() - start
    with Gradebook(gradebook) as gb:
        return seconds, {s["student"]: s["score"] for s in gb.submissions()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=100)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--skip-nbgrader", action="store_true")
    args = parser.parse_args()
    folder = args.workdir or Path(tempfile.mkdtemp(prefix="class-benchmark-"))
    if folder.exists() and args.workdir:
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    course = load_course(ROOT / "course.yaml")
    nbgrader_source(course, folder)
    api = nbgrader_api(folder)
    with _alembic_head_in_process(), contextlib.redirect_stdout(io.StringIO()):
        result = api.generate_assignment(AID, force=True, create=True)
    assert result.get("success"), result
    who = make_class(folder, args.students)
    students = sorted(who)
    print(f"{len(students)} submissions of {AID}: " + ", ".join(f"{k} {list(who.values()).count(k)}" for k, _, _ in KINDS))
    print(f"machine: {os.cpu_count()} CPUs; cell/call timeout {TIMEOUT_S} s")
    ours = {w: run_ours(folder, w) for w in args.workers}
    for w, (seconds, _) in ours.items():
        print(f"grader autograde, {w} worker(s): {seconds:.1f} s ({len(students) / seconds:.2f} submissions/s)")
    if args.skip_nbgrader:
        return
    nb_seconds, nb_scores = run_nbgrader(folder, students)
    print(f"nbgrader autograde: {nb_seconds:.1f} s ({len(students) / nb_seconds:.2f} submissions/s)")
    best = min(seconds for seconds, _ in ours.values())
    print(f"ratio nbgrader / ours (best workers): {nb_seconds / best:.1f}x")
    our_scores = ours[max(ours)][1]
    print("| kind | submissions | our mean score | nbgrader mean score |")
    print("|---|---|---|---|")
    for kind, _, _ in KINDS:
        members = [s for s in students if who[s] == kind]
        if members:
            mean = lambda scores: sum(scores[s] for s in members) / len(members)
            print(f"| {kind} | {len(members)} | {mean(our_scores):.2f} | {mean(nb_scores):.2f} |")


if __name__ == "__main__":
    main()
