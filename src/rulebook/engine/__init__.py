"""engine: a checked program → a plan of generated Python → evaluation. compile (pycode, timeline) → plan → evaluate (runtime, days, order)."""
