"""input: outside data → validated snapshots and events. documents (YAML, JSON, JSON Lines) → snapshot (model) → events."""
