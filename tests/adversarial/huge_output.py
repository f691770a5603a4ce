"""Prints about 200 MB to stdout and stderr (must be capped, never parsed, never slow the grader down)."""
import sys
def _flood(x):
    line = "X" * 1_000_000 + "\n"
    for _ in range(100):
        sys.stdout.write(line); sys.stderr.write(line)
    return x * 0
def sigmoid(x): return _flood(x)
def relu(x): return _flood(x)
def softmax(x, dim=-1): return _flood(x)
