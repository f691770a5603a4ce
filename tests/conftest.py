"""Shared fixtures for the package's own tests.

`--device cuda` runs the device-aware tests (reference implementations, graders) on a GPU;
without a GPU the whole suite passes on the CPU and CUDA-only tests are skipped by name.
"""
from __future__ import annotations

import os
import secrets

import pytest
import torch


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--device",
        default="cpu",
        choices=("cpu", "cuda"),
        help="device on which reference and grader tests run their tensors (default: cpu)",
    )


def pytest_configure(config: pytest.Config) -> None:
    # The quality gate's grading secret (tests/test_assignments.py): fixed unless GATE_SECRET names another;
    # "random" draws a fresh one, printed in the header so that a failure can be rerun.
    secret = os.environ.get("GATE_SECRET", "quality-gate-1")
    os.environ["GATE_SECRET"] = secrets.token_hex(8) if secret == "random" else secret
    if config.getoption("--device") == "cuda" and not torch.cuda.is_available():
        raise pytest.UsageError("--device cuda was given but torch.cuda.is_available() is False; run without it")
    # Process-wide numeric switches that would make float32 checks flaky on GPUs.
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False


def pytest_report_header(config: pytest.Config) -> str:
    return f"quality gate secret (GATE_SECRET): {os.environ['GATE_SECRET']}"


@pytest.fixture
def device(request: pytest.FixtureRequest) -> torch.device:
    """The torch device the test runs on, chosen with --device."""
    return torch.device(request.config.getoption("--device"))


@pytest.fixture
def gen() -> torch.Generator:
    """A CPU generator with a fresh seed per test: inputs are random, failures print the seed."""
    seed = torch.seed() % (2**31)
    g = torch.Generator().manual_seed(seed)
    print(f"random seed for this test: {seed}")
    return g


requires_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
