"""Per-student numbers of a03_recurrent: one-unit (scalar) Elman, Jordan, LSTM and GRU steps to compute by hand,
and the sizes of the parameter-count question.

Weights come from {-1, -0.5, 0.5, 1, 2}, biases, inputs and initial states from {-1, -0.5, 0, 0.5, 1, 2}, so every
pre-activation is a short sum a student can add up by hand. A draw is kept only when (a) no pre-activation is so
large that tanh or the sigmoid saturates (the answers would all be 1.0000 and say nothing) and (b) every mistake
the grader names changes at least one answer by more than 0.005 (ten times the grading tolerance of 5e-4), so a
mistake can be told from a right answer, and from the other mistakes, at 4 decimals.

`answers(task, numbers, mistake=None)` computes the answers, or the answers a named mistake would give; the
grader uses it for its `Mistake`s and computes the expected answers independently with reference.rnn.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

WEIGHTS = (-1.0, -0.5, 0.5, 1.0, 2.0)
VALUES = (-1.0, -0.5, 0.0, 0.5, 1.0, 2.0)
NONZERO = (-1.0, -0.5, 0.5, 1.0)
MAX_PRE = 2.6          # |pre-activation| at most this: tanh(2.6) = 0.989, sigmoid(2.6) = 0.931, not saturated
MIN_GAP = 5e-3         # every mistake moves some answer by more than this


def _sigmoid(a: float) -> float:
    return 1.0 / (1.0 + math.exp(-a))


def _identity(a: float) -> float:
    return a


def _pick(rng: np.random.Generator, values: tuple[float, ...]) -> float:
    return float(values[int(rng.integers(len(values)))])


# ------------------------------------------------------------------------------------------------------ Elman
ELMAN_MISTAKES = ("sigmoid", "no_bias", "no_recurrent")


def elman_answers(n: dict[str, Any], mistake: str | None = None) -> dict[str, float]:
    """h1 = tanh(w_hh h0 + w_xh x1 + b_h), y1 = w_hy h1 + b_y, h2 = tanh(w_hh h1 + w_xh x2 + b_h)."""
    f = _sigmoid if mistake == "sigmoid" else math.tanh
    b_h = 0.0 if mistake == "no_bias" else n["b_h"]
    b_y = 0.0 if mistake == "no_bias" else n["b_y"]
    w_hh = 0.0 if mistake == "no_recurrent" else n["w_hh"]
    h1 = f(w_hh * n["h0"] + n["w_xh"] * n["x1"] + b_h)
    y1 = n["w_hy"] * h1 + b_y
    h2 = f(w_hh * h1 + n["w_xh"] * n["x2"] + b_h)
    return {"h1": h1, "y1": y1, "h2": h2}


def _elman_pre(n: dict[str, Any]) -> list[float]:
    h1 = elman_answers(n)["h1"]
    return [n["w_hh"] * n["h0"] + n["w_xh"] * n["x1"] + n["b_h"], n["w_hh"] * h1 + n["w_xh"] * n["x2"] + n["b_h"]]


def elman_hand(rng: np.random.Generator) -> dict[str, Any]:
    while True:
        n = {"x1": _pick(rng, WEIGHTS), "x2": _pick(rng, WEIGHTS), "h0": _pick(rng, (-0.5, 0.0, 0.5)),
             "w_xh": _pick(rng, WEIGHTS), "w_hh": _pick(rng, WEIGHTS), "b_h": _pick(rng, NONZERO),
             "w_hy": _pick(rng, WEIGHTS), "b_y": _pick(rng, VALUES)}
        if _acceptable(n, _elman_pre(n), elman_answers, ELMAN_MISTAKES):
            return n


# ------------------------------------------------------------------------------------------------------ Jordan
JORDAN_MISTAKES = ("sigmoid", "no_bias", "no_recurrent", "fed_back_h")


def jordan_answers(n: dict[str, Any], mistake: str | None = None) -> dict[str, float]:
    """h1 = tanh(w_hh h0 + w_xh x1 + w_yh y0 + b_h), y1 = w_hy h1 + b_y, h2 = tanh(w_hh h1 + w_xh x2 + w_yh y1 + b_h).

    Mistakes: "no_recurrent" leaves out w_hh h_{t-1} (the lecture keeps it; Jordan's original network has none);
    "fed_back_h" feeds back h_{t-1} where y_{t-1} belongs (w_yh h_{t-1}).
    """
    f = _sigmoid if mistake == "sigmoid" else math.tanh
    b_h = 0.0 if mistake == "no_bias" else n["b_h"]
    b_y = 0.0 if mistake == "no_bias" else n["b_y"]
    w_hh = 0.0 if mistake == "no_recurrent" else n["w_hh"]
    w_yh = n["w_yh"]
    fed1 = n["h0"] if mistake == "fed_back_h" else n["y0"]
    h1 = f(w_hh * n["h0"] + n["w_xh"] * n["x1"] + w_yh * fed1 + b_h)
    y1 = n["w_hy"] * h1 + b_y
    fed2 = h1 if mistake == "fed_back_h" else y1
    h2 = f(w_hh * h1 + n["w_xh"] * n["x2"] + w_yh * fed2 + b_h)
    return {"h1": h1, "y1": y1, "h2": h2}


def _jordan_pre(n: dict[str, Any]) -> list[float]:
    a = jordan_answers(n)
    return [n["w_hh"] * n["h0"] + n["w_xh"] * n["x1"] + n["w_yh"] * n["y0"] + n["b_h"],
            n["w_hh"] * a["h1"] + n["w_xh"] * n["x2"] + n["w_yh"] * a["y1"] + n["b_h"]]


def jordan_hand(rng: np.random.Generator) -> dict[str, Any]:
    while True:
        n = {"x1": _pick(rng, WEIGHTS), "x2": _pick(rng, WEIGHTS), "h0": _pick(rng, (-0.5, 0.0, 0.5)),
             "y0": _pick(rng, (-1.0, -0.5, 0.5, 1.0)),
             "w_xh": _pick(rng, WEIGHTS), "w_hh": _pick(rng, WEIGHTS), "w_yh": _pick(rng, WEIGHTS),
             "b_h": _pick(rng, NONZERO), "w_hy": _pick(rng, WEIGHTS), "b_y": _pick(rng, VALUES)}
        if _acceptable(n, _jordan_pre(n), jordan_answers, JORDAN_MISTAKES):
            return n


# ------------------------------------------------------------------------------------------------------ LSTM
LSTM_MISTAKES = ("sigmoid_candidate", "no_bias", "no_recurrent", "c_without_candidate", "h_without_tanh")
GATES = "ifgo"


def lstm_answers(n: dict[str, Any], mistake: str | None = None) -> dict[str, float]:
    """Gate k in (i, f, g, o): a_k = W_ih[k] x + b_ih[k] + W_hh[k] h_prev + b_hh[k] (PyTorch's rows i, f, g, o);
    i, f, o = σ(a), c~ = tanh(a_g), c = f c_prev + i c~, h = o tanh(c)."""
    pre = {}
    for k, gate in enumerate(GATES):
        a = n["W_ih"][k] * n["x"]
        if mistake != "no_recurrent":
            a += n["W_hh"][k] * n["h_prev"]
        if mistake != "no_bias":
            a += n["b_ih"][k] + n["b_hh"][k]
        pre[gate] = a
    i, f, o = _sigmoid(pre["i"]), _sigmoid(pre["f"]), _sigmoid(pre["o"])
    g = _sigmoid(pre["g"]) if mistake == "sigmoid_candidate" else math.tanh(pre["g"])
    c = f * n["c_prev"] + (i if mistake == "c_without_candidate" else i * g)
    h = o * c if mistake == "h_without_tanh" else o * math.tanh(c)
    return {"i": i, "f": f, "g": g, "o": o, "c": c, "h": h}


def _lstm_pre(n: dict[str, Any]) -> list[float]:
    return [n["W_ih"][k] * n["x"] + n["W_hh"][k] * n["h_prev"] + n["b_ih"][k] + n["b_hh"][k] for k in range(4)]


def lstm_hand(rng: np.random.Generator) -> dict[str, Any]:
    while True:
        n = {"x": _pick(rng, WEIGHTS), "h_prev": _pick(rng, (-0.5, 0.5, 1.0)), "c_prev": _pick(rng, (-1.0, -0.5, 0.5, 1.0, 2.0)),
             "W_ih": [_pick(rng, WEIGHTS) for _ in range(4)], "W_hh": [_pick(rng, WEIGHTS) for _ in range(4)],
             "b_ih": [_pick(rng, VALUES) for _ in range(4)], "b_hh": [_pick(rng, (-0.5, 0.0, 0.5)) for _ in range(4)]}
        if _acceptable(n, _lstm_pre(n), lstm_answers, LSTM_MISTAKES):
            return n


# ------------------------------------------------------------------------------------------------------ GRU
GRU_MISTAKES = ("sigmoid_candidate", "no_bias", "no_recurrent", "z_flipped", "b_hn_outside")


def gru_answers(n: dict[str, Any], mistake: str | None = None) -> dict[str, float]:
    """PyTorch's GRU, rows (r, z, n): r = σ(W_ir x + b_ir + W_hr h + b_hr), z = σ(W_iz x + b_iz + W_hz h + b_hz),
    n = tanh(W_in x + b_in + r (W_hn h + b_hn)), h' = (1 - z) n + z h."""
    x, h = n["x"], n["h_prev"]
    W_ih, W_hh = n["W_ih"], n["W_hh"]
    b_ih = [0.0] * 3 if mistake == "no_bias" else n["b_ih"]
    b_hh = [0.0] * 3 if mistake == "no_bias" else n["b_hh"]
    rec = 0.0 if mistake == "no_recurrent" else h  # the recurrent terms W_h* h_prev
    act_cand = _sigmoid if mistake == "sigmoid_candidate" else math.tanh
    r = _sigmoid(W_ih[0] * x + b_ih[0] + W_hh[0] * rec + b_hh[0])
    z = _sigmoid(W_ih[1] * x + b_ih[1] + W_hh[1] * rec + b_hh[1])
    if mistake == "b_hn_outside":
        cand = act_cand(W_ih[2] * x + b_ih[2] + r * (W_hh[2] * rec) + b_hh[2])
    else:
        cand = act_cand(W_ih[2] * x + b_ih[2] + r * (W_hh[2] * rec + b_hh[2]))
    new = z * cand + (1 - z) * h if mistake == "z_flipped" else (1 - z) * cand + z * h
    return {"r": r, "z": z, "n": cand, "h": new}


def _gru_pre(n: dict[str, Any]) -> list[float]:
    x, h = n["x"], n["h_prev"]
    r = _sigmoid(n["W_ih"][0] * x + n["b_ih"][0] + n["W_hh"][0] * h + n["b_hh"][0])
    return [n["W_ih"][k] * x + n["b_ih"][k] + n["W_hh"][k] * h + n["b_hh"][k] for k in range(2)] + [
        n["W_ih"][2] * x + n["b_ih"][2] + r * (n["W_hh"][2] * h + n["b_hh"][2])]


def gru_hand(rng: np.random.Generator) -> dict[str, Any]:
    while True:
        n = {"x": _pick(rng, WEIGHTS), "h_prev": _pick(rng, (-1.0, -0.5, 0.5, 1.0)),
             "W_ih": [_pick(rng, WEIGHTS) for _ in range(3)], "W_hh": [_pick(rng, WEIGHTS) for _ in range(3)],
             "b_ih": [_pick(rng, VALUES) for _ in range(3)], "b_hh": [_pick(rng, (-1.0, -0.5, 0.5, 1.0)) for _ in range(3)]}
        if _acceptable(n, _gru_pre(n), gru_answers, GRU_MISTAKES):
            return n


# ------------------------------------------------------------------------------------------------------ checks
def _acceptable(n: dict[str, Any], pre: list[float], answers: Callable[..., dict[str, float]],
                mistakes: tuple[str, ...]) -> bool:
    """Not saturated, every mistake changes some answer, and at every single answer two outcomes (the right one and
    the mistakes') are either identical or more than MIN_GAP apart, so each answer names at most one mistake."""
    if any(abs(a) > MAX_PRE for a in pre):
        return False
    right = answers(n)
    outcomes = [right] + [answers(n, m) for m in mistakes]
    if any(max(abs(o[k] - right[k]) for k in right) <= MIN_GAP for o in outcomes[1:]):
        return False
    for k in right:
        moved = [o[k] for o in outcomes[1:] if abs(o[k] - right[k]) > 1e-12]  # the mistakes that change answer k
        if any(abs(v - right[k]) <= MIN_GAP for v in moved):
            return False
        if any(abs(u - v) <= MIN_GAP for i, u in enumerate(moved) for v in moved[i + 1:]):
            return False
    return True


def param_sizes(rng: np.random.Generator) -> dict[str, Any]:
    """Input and hidden sizes for the parameter-count question (nn.LSTM(I, H) and nn.GRU(I, H))."""
    return {"input_size": int(rng.choice([3, 5, 8, 10, 12, 16, 20, 32])),
            "hidden_size": int(rng.choice([4, 6, 8, 10, 16, 20, 24, 32, 64]))}


ANSWERS = {"elman_hand": elman_answers, "jordan_hand": jordan_answers, "lstm_hand": lstm_answers, "gru_hand": gru_answers}
MISTAKES = {"elman_hand": ELMAN_MISTAKES, "jordan_hand": JORDAN_MISTAKES, "lstm_hand": LSTM_MISTAKES, "gru_hand": GRU_MISTAKES}


def answers(task: str, numbers: dict[str, Any], mistake: str | None = None) -> dict[str, float]:
    """The answers of a hand-computation task, or those a named mistake would give."""
    return ANSWERS[task](numbers, mistake)


NUMBERS = {
    "elman_hand": elman_hand,
    "jordan_hand": jordan_hand,
    "lstm_hand": lstm_hand,
    "gru_hand": gru_hand,
    "q_param_count": param_sizes,
}
