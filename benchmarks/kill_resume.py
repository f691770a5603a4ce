"""Kill -9 a class run at random points, resume it, and compare with an uninterrupted run of the same class.

    python benchmarks/kill_resume.py [--students 100] [--kills 5] [--workers 2] [--seed 0]

The class is a00_warmup's examples and attack submissions mixed (correct, wrong, crashing, hanging, malicious,
malformed), copied to <student>.py/.ipynb in a flat folder. With a fixed GRADER_SECRET both runs draw the same
hidden inputs, so the two gradebooks must agree on every submission (status, score, hash, reason) and every test
(status, points, feedback). Prints the kill points and the comparison; record it in benchmarks/RESULTS.md.
"""
from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.gradebook import Gradebook  # noqa: E402

SOURCES = [p for p in sorted((ROOT / "examples" / "a00_warmup").iterdir()) + sorted((ROOT / "tests" / "adversarial").iterdir())
           if p.suffix in (".py", ".ipynb")]
EXAMPLES = [p for p in SOURCES if p.parent.name == "a00_warmup"]


def make_class(folder: Path, students: int, rng: random.Random) -> None:
    folder.mkdir(parents=True)
    for i in range(students):
        source = SOURCES[i] if i < len(SOURCES) else rng.choice(EXAMPLES)
        shutil.copy(source, folder / f"st{i:03d}{source.suffix}")


def start(folder: Path, gradebook: Path, workers: int) -> subprocess.Popen:
    env = {**os.environ, "GRADER_SECRET": "kill-resume-benchmark"}
    return subprocess.Popen(
        [sys.executable, "-m", "grader", "autograde", str(folder), "--assignment", "a00_warmup", "--gradebook",
         str(gradebook), "--workers", str(workers), "--no-progress", "--course", str(ROOT / "course.yaml")],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, start_new_session=True, text=True,
    )


def count(gradebook: Path) -> int:
    try:
        with sqlite3.connect(gradebook, timeout=5) as db:
            return db.execute("SELECT count(*) FROM submissions").fetchone()[0]
    except sqlite3.OperationalError:
        return 0


def snapshot(gradebook: Path) -> tuple[list, list]:
    with Gradebook(gradebook) as gb:
        subs = sorted((s["student"], s["status"], s["score"], s["submission_hash"], s["reason"]) for s in gb.submissions())
        tests = sorted((r["student"], r["test"], r["status"], r["score"], r["feedback"]) for r in gb.results())
    return subs, tests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=100)
    parser.add_argument("--kills", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="kill-resume-"))
    folder = work / "class"
    make_class(folder, args.students, rng)

    t0 = time.perf_counter()
    out, _ = start(folder, work / "clean.sqlite", args.workers).communicate()
    print(f"uninterrupted run: {time.perf_counter() - t0:.1f} s; {out.strip().splitlines()[0]}")

    resumed = work / "resumed.sqlite"
    for k in range(args.kills):
        target = min(args.students - 1, count(resumed) + rng.randint(1, max(1, args.students // (args.kills + 1))))
        proc = start(folder, resumed, args.workers)
        while count(resumed) < target and proc.poll() is None:
            time.sleep(rng.uniform(0.0, 0.05))
        time.sleep(rng.uniform(0.0, 0.5))  # somewhere between two writes, or in the middle of one
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        print(f"kill {k + 1}: SIGKILL with {count(resumed)} of {args.students} submissions in the gradebook")
    out, _ = start(folder, resumed, args.workers).communicate()
    print(f"resumed run: {out.strip().splitlines()[0]}")
    with Gradebook(resumed) as gb:
        integrity = gb.integrity()
    same = snapshot(resumed) == snapshot(work / "clean.sqlite")
    subs, tests = snapshot(resumed)
    print(f"integrity_check: {integrity}; submissions {len(subs)}, test verdicts {len(tests)}; "
          f"identical to the uninterrupted run: {same}")
    if not same:
        clean_subs, clean_tests = snapshot(work / "clean.sqlite")
        for a, b in ((clean_subs, subs), (clean_tests, tests)):
            for row in sorted(set(a) ^ set(b))[:20]:
                print(("only clean:   " if row in a else "only resumed: ") + repr(row)[:300])
        print(f"gradebooks kept in {work}")
    else:
        shutil.rmtree(work)
    sys.exit(0 if same and integrity == "ok" else 1)


if __name__ == "__main__":
    main()
