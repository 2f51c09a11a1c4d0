"""Fuzz target: the DSL's parser, checker and compiler, and judging with what they build.

An input is a rule file's bytes. If its first line is `# replaces: NAME.rules`, it takes the
place of that file of the bundled rulebook (rules/), the others as they are — mutating the real
rulebook; otherwise it is a rulebook on its own. Reading it (UTF-8, NUL), parsing, checking and
compiling give a rulebook or RB diagnostics that render; a rulebook built is then linked and
judges a few snapshots, giving verdicts or rulebook.error/v1.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from fuzz.harness import Failure, fuzz_main  # noqa: E402

NAME = "rules"
REPLACES = b"# replaces: "
DAYS = (None, dt.date(2020, 1, 1), dt.date(2021, 3, 1), dt.date(2030, 12, 31))


def setup():
    import yaml

    import rulebook
    from rulebook.book import bundled_rules

    root = Path(__file__).resolve().parents[1]
    bundled = {p.name: p.read_text(encoding="utf-8") for p in sorted(bundled_rules().glob("*.rules"))}
    seed = yaml.safe_load((root / "examples" / "seed-case.yaml").read_text(encoding="utf-8"))
    small = {"format": "rulebook.case/v1", "case_id": "F", "as_of": "2021-03-01", "paid_jpy": 1000,
             "opened_on": "2021-01-08", "steps": [{"number": 1, "hours": 2.5, "done_on": "2020-06-01"},
                                                  {"number": 2, "hours": 1, "done_on": "2021-02-01"}]}
    from rulebook.language.parse import parse
    from rulebook.language.source import Source

    # The bundled files an input does not replace are parsed once (the syntax tree is frozen).
    parsed = {name: parse(Source(f"rules/{name}", text))[0] for name, text in bundled.items()}
    return {"parsed": parsed, "snapshots": [seed, small, {"case_id": "F"}]}


def build(files, source):
    """`rulebook.book.build`, with the files already parsed: (plan, schema) or RulebookError."""
    from rulebook.language.check import check as check_program
    from rulebook.engine.compile import compile_program
    from rulebook.language.diagnostic import RulebookError
    from rulebook.language.parse import parse

    file, diags = parse(source)
    if diags:
        raise RulebookError(diags)
    program, diags = check_program(files + ([file] if file is not None else []))
    if diags or program is None:
        raise RulebookError(diags)
    return compile_program(program), program.schema


def _text(data: bytes) -> str | None:
    """The rule file's text as `book.read_sources` reads it; None when it refuses it (RB106)."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return None if "\x00" in text else text


def check(data: bytes, state) -> None:
    from rulebook.book import Rulebook
    from rulebook.language.diagnostic import Diagnostic, RulebookError
    from rulebook.engine.evaluate import EvaluationError
    from rulebook.output.explain import dumps
    from rulebook.language.source import Source

    files = []
    if data.startswith(REPLACES):
        first, _, _ = data.partition(b"\n")
        name = first[len(REPLACES):].decode("utf-8", "replace").strip()
        files = [f for n, f in state["parsed"].items() if n != name]
    text = _text(data)
    if text is None:
        return  # RB106: `read_sources` refuses it before parsing
    try:
        plan, schema = build(files, Source("fuzz.rules", text))
    except RulebookError as error:
        if not error.diagnostics or not all(isinstance(d, Diagnostic) for d in error.diagnostics):
            raise Failure(f"a RulebookError without diagnostics: {error!r}") from None
        error.render()
        for diagnostic in error.diagnostics:
            if diagnostic.span is not None:
                str(diagnostic.span)
        return
    book = Rulebook(plan, schema, "sha256:fuzz", Path("fuzz"))
    book.json_schema()
    book.catalogue()
    for snapshot in state["snapshots"]:
        for day in DAYS:
            out = book.judge(snapshot, day)
            if out.get("format") not in ("rulebook.verdict/v1", "rulebook.error/v1"):
                raise Failure(f"judge gave neither a verdict nor an error: {out!r:.300}")
            dumps(out)
            if out["format"] == "rulebook.verdict/v1":
                try:
                    book.next_change(book.evaluate(book.validate(snapshot).case, day))
                except EvaluationError:
                    pass


if __name__ == "__main__":
    fuzz_main(NAME)
