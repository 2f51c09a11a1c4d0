"""engine: a checked program → a plan of generated Python → evaluation. compile (codegen, timeline) → plan
(planjson) → evaluate (runtime, days, order); codegen builds and runs every piece of generated Python."""
