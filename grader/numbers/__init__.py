"""Per-student number makers, one module per assignment: `NUMBERS = {task: fn(rng) -> dict}` (see grader.variants)."""
