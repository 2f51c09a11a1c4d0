"""rulebook: a compliance rule engine with a small declarative DSL.

    import rulebook
    book = rulebook.load()                 # the program's bundled rulebook
    verdict = book.check(snapshot)         # a mapping, JSON text or book.model
"""

__version__ = "0.1.0"

from .book import Rulebook, load  # noqa: E402
from .language.diagnostic import Diagnostic, RulebookError  # noqa: E402
from .input.errors import Rejected as SnapshotError  # noqa: E402


def __getattr__(name):
    if name == "Verdict":  # the pydantic model of the output, built on first use
        from .output.verdict import Verdict

        return Verdict
    raise AttributeError(name)

__all__ = ["Rulebook", "load", "Diagnostic", "RulebookError", "SnapshotError", "Verdict", "__version__"]
