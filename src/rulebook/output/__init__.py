"""output: evaluation results → explained verdicts and what people read. explain → verdict → render (text), report (HTML)."""
