"""Pieces of generated Python: how a name from a rule file is read as an attribute.

The compiler, the order checks and the snapshot checks all generate Python from names
the grammar has checked (`[A-Za-z_][A-Za-z0-9_]*`). A name that is a Python keyword
or a dunder is read with `getattr` and a quoted string, never written as code.
"""

from __future__ import annotations

import keyword


def attribute(obj: str, name: str) -> str:
    """Code that reads attribute `name` of the object in local `obj`."""
    if name.isidentifier() and not keyword.iskeyword(name) and not name.startswith("__"):
        return f"{obj}.{name}"
    return f"getattr({obj}, {name!r})"
