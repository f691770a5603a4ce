"""The calibration files' shared writing step: a pass-rate run adds its entry to a calibration file under a lock, so
that several trainers calibrated at once (one per core) do not lose one another's entries."""
from __future__ import annotations

import fcntl
import json
import tempfile
from pathlib import Path


def add_pass_rate(path: Path, entry: dict, ensure_ascii: bool = True) -> dict:
    """Replace the entry of the same trainer and load in `path`'s "pass_rates" by `entry`; return the file's data.
    `ensure_ascii` as the file was first written (json.dumps's default, or False where it holds σ and the like)."""
    with open(Path(tempfile.gettempdir()) / f"{path.stem}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        data = json.loads(path.read_text(encoding="utf-8"))
        same = (entry["trainer"], entry["load"])
        data["pass_rates"] = [e for e in data.get("pass_rates", []) if (e["trainer"], e["load"]) != same] + [entry]
        path.write_text(json.dumps(data, indent=1, ensure_ascii=ensure_ascii) + "\n", encoding="utf-8")
    return data
