"""A loaded machine for the calibrations (`--load K`): K processes that each keep a core busy, as other gradings
and jobs would, while the calibration trains."""
from __future__ import annotations

import multiprocessing


def _spin() -> None:
    while True:
        pass


def start_load(k: int) -> list:
    """k busy processes (stopped by stop_load)."""
    procs = [multiprocessing.Process(target=_spin, daemon=True) for _ in range(k)]
    for proc in procs:
        proc.start()
    return procs


def stop_load(procs: list) -> None:
    for proc in procs:
        proc.terminate()
        proc.join()
