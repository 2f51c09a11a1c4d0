"""language: rule files → a checked program. source → parse (grammar, syntax) → check (schema, infer) → program."""
