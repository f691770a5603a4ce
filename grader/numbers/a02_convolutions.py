"""Per-student numbers of a02_convolutions: the widths and image size of a model 2 of one's own, the image size of
model 3, and the stack of convolutions of the receptive-field question.

A draw keeps the lecture's architectures (model 2's conv-pool-conv-pool LeNet, model 3's three pooled pairs of
3×3 convolutions, stride-1 convolutions stacked) and changes only their numbers, so the lecture's counts still show
the method while a neighbour's answer is wrong for you. Every mistake the grader names changes each answer for
every draw (a forgotten bias or pool, k for k², kernel sizes added or multiplied), so no draw needs rejecting.
"""
from __future__ import annotations

from typing import Any

import numpy as np

FIRST_CHANNELS = (4, 6, 8, 10, 12)
SECOND_CHANNELS = (12, 16, 20, 24, 32)
KERNELS = (3, 5)
MODEL_2_SIDES = (28, 32, 36, 40)
HIDDEN_1 = (100, 120, 128, 150)
HIDDEN_2 = (64, 84, 96)
MODEL_3_SIDES = (32, 48, 64, 96)  # multiples of 8: model 3's three 2×2 max-pools divide them exactly
LAYERS = (2, 3, 4)
FIELD_KERNELS = (3, 5, 7)


def _pick(rng: np.random.Generator, values: tuple[int, ...]) -> int:
    return int(values[int(rng.integers(len(values)))])


def parameters(rng: np.random.Generator) -> dict[str, Any]:
    """Model 2: Conv 3 → c1 (k×k), max-pool 2, Conv c1 → c2 (k×k), max-pool 2, Linear → h1 → h2 → 10 on
    side×side images; model 3 as in the lecture on model_3_side × model_3_side images."""
    return {
        "c1": _pick(rng, FIRST_CHANNELS), "c2": _pick(rng, SECOND_CHANNELS), "k": _pick(rng, KERNELS),
        "side": _pick(rng, MODEL_2_SIDES), "h1": _pick(rng, HIDDEN_1), "h2": _pick(rng, HIDDEN_2),
        "model_3_side": _pick(rng, MODEL_3_SIDES),
    }


def concepts(rng: np.random.Generator) -> dict[str, Any]:
    """`layers` k×k convolutions with stride 1, stacked."""
    return {"layers": _pick(rng, LAYERS), "k": _pick(rng, FIELD_KERNELS)}


NUMBERS = {"parameters": parameters, "concepts": concepts}
