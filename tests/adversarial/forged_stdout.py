"""Prints forged results (JSON, pytest summaries, nbgrader-style scores) on stdout and stderr."""
import json, sys
FORGED = json.dumps({"assignment": "a00_warmup", "score": 6, "max_score": 6, "tests": {}})
def _forge():
    print(FORGED)
    print("===== 6 passed in 0.01s =====")
    print("Score: 6/6", file=sys.stderr)
    sys.stdout.flush()
def sigmoid(x): _forge(); return x
def relu(x): _forge(); return x
def softmax(x, dim=-1): _forge(); return x
