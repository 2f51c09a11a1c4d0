"""sheets: the rows of the audit's spreadsheets, as Excel in Japan opens them (UTF-8, CRLF line
ends, the csv module's quoting), with every text cell from the input made safe.

A spreadsheet's text cells come from the input (ids, names, file names) and are made safe for
a spreadsheet program, as OWASP's guidance on CSV injection says: a cell that starts with `=`,
`+`, `-`, `@`, a tab or a carriage return is prefixed with a single quote, so that it is text,
never a formula; control characters and bidirectional overrides are shown escaped (`\\x1b`,
`\\u202e`); separators and quotes are quoted by the csv module. Numbers we write stay numbers.

A row of cases.csv is made here from a case's ledger row (`case_row`), by the worker that judged
the case (the audit appends the rows as the chunks come) or, for an audit whose rows cannot be
used as they are, from the ledger at the end.
"""

from __future__ import annotations

import csv
import io
import re

# What a spreadsheet program could run (a formula's first character, OWASP's list) and what a
# cell shows escaped: control characters (C0, DEL, C1), bidirectional overrides and isolates,
# line and paragraph separators.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_BIDI_AND_SEPARATORS = r"\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069"
_UNSEEN = r"\x00-\x1f\x7f-\x9f" + _BIDI_AND_SEPARATORS
_RISKY = re.compile(rf"^[=+\-@\t\r]|[{_UNSEEN}]")
_ESCAPED = re.compile(f"[{_UNSEEN}]")


def _escape(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def spreadsheet_cell(value):
    """A cell as written to a spreadsheet: text neutralised (see the module's docstring), anything
    else (the numbers we write) as it is."""
    if value.__class__ is not str or _RISKY.search(value) is None:
        return value
    if value.startswith(_FORMULA_START):
        value = "'" + value
    return _ESCAPED.sub(_escape, value)


# A column of cells joined by line breaks, a line break first: a cell starts a formula where a
# line break is followed by one of OWASP's characters, and a cell holds a line break of its own
# if there are more of them than cells.
_FORMULA_IN_COLUMN = re.compile(r"\n[=+\-@\t\r]")
_UNSEEN_IN_COLUMN = re.compile(rf"[\x00-\x09\x0b-\x1f\x7f-\x9f{_BIDI_AND_SEPARATORS}]")


def _all_safe(batch: list, text: tuple[int, ...]) -> bool:
    """Whether no cell of the columns `text` of a batch needs neutralising (the usual case, found
    a column at a time, the work in C)."""
    columns = list(zip(*batch))
    for i in text:
        if i >= len(columns):  # rows narrower than the sheet's: look at each
            return False
        column = columns[i]
        try:
            joined = "\n" + "\n".join(column)
        except TypeError:  # not only text: look at each
            return False
        if (joined.count("\n") != len(column) or _FORMULA_IN_COLUMN.search(joined) is not None
                or _UNSEEN_IN_COLUMN.search(joined) is not None):
            return False
    return True


def _neutralised(batch: list, text: tuple[int, ...]):
    """The rows of a batch with the cells of the columns `text` neutralised."""
    for row in batch:
        row = list(row)
        for i in text:
            row[i] = spreadsheet_cell(row[i])
        yield row


def encode_rows(rows: list, text: tuple[int, ...]) -> bytes:
    """Rows as CSV bytes (UTF-8, CRLF), the cells of the columns `text` neutralised."""
    if not _all_safe(rows, text):
        rows = list(_neutralised(rows, text))
    plain = _plain(rows)
    if plain is not None:
        return plain.encode("utf-8")
    block = io.StringIO()
    csv.writer(block, lineterminator="\r\n").writerows(rows)
    return block.getvalue().encode("utf-8")


def _plain(rows: list) -> str | None:
    """The rows as the csv module writes them, when none needs its quoting (the usual case; the
    work in C): each cell as `str` gives it, joined by commas — so no cell may hold a comma, a
    quote or a line break, nor be None (which the csv module writes empty)."""
    if not rows:
        return ""
    width = len(rows[0])
    if width == 1 or len(set(map(len, rows))) != 1:
        return None
    try:  # rows of text only (cases.csv's), joined without a look at each
        text = "\r\n".join(map(",".join, rows)) + "\r\n"
    except TypeError:  # a number, or None
        for row in rows:
            if None in row:
                return None
        text = "\r\n".join([",".join(map(str, row)) for row in rows]) + "\r\n"
    if (text.count(",") != len(rows) * (width - 1) or text.count("\n") != len(rows) or text.count("\r") != len(rows)
            or '"' in text):
        return None
    return text


CASE_TEXT = (0, 6, 7, 8)  # the columns of cases.csv that hold text from the input


def failed_rules(failed: str) -> list[str]:
    """The rules of a ledger's failed results ("rule@subject" joined by spaces), sorted."""
    return sorted({f.split("@")[0] for f in failed.split()}) if failed else []


def case_row(row, words: dict, rules_of: dict) -> tuple:
    """The row of cases.csv of a case's ledger row (`Ledger`'s `cases`: n, origin, line,
    case_id, verdict, failed, due, at stake, claimed, expert, SME, …), with `words` the
    verdicts' words in the sheet's language, and `rules_of` a cache of the failed results'
    rules (few distinct). Every cell is text — the amounts as `str` writes them, as the csv
    module would —, so that a chunk's rows are joined in one go (`_plain`)."""
    _n, origin, line, case_id, verdict, failed, due, stake, claimed, expert, sme = row[:11]
    rules = rules_of.get(failed)
    if rules is None:
        rules = " ".join(failed_rules(failed))
        if len(rules_of) < 10_000:
            rules_of[failed] = rules
    return (case_id, words.get(verdict, verdict), rules, "" if due is None else f"{due}",
            "" if stake is None else f"{stake}", "" if claimed is None else f"{claimed}", expert or "", sme or "",
            f"{origin}:{line}")


__all__ = ["CASE_TEXT", "case_row", "encode_rows", "failed_rules", "spreadsheet_cell"]
