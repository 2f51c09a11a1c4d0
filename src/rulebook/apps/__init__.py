"""apps: the faces of rulebook, on top of `book`: cli, service (+ web/), audit (+ ledger), watch, testing."""
