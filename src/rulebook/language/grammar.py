"""The grammar of the rule language, as text: `grammar/rulebook.lark`, shipped in the package."""

from __future__ import annotations

import functools
from importlib import resources
from pathlib import Path

GRAMMAR_FILE = "rulebook.lark"


@functools.cache
def grammar_text() -> str:
    """The grammar, from the installed package (or the source tree)."""
    packaged = resources.files("rulebook").joinpath("grammar").joinpath(GRAMMAR_FILE)
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    here = Path(__file__).resolve().parents[3] / "grammar" / GRAMMAR_FILE
    return here.read_text(encoding="utf-8")
