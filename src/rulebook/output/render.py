"""render: explained verdicts → text for a person, in Japanese or English.

Grouped by the stages of the procedure: what needs doing first (failures,
then pending items, with the fix and the day it is due), then what passed,
then the money. Colour only when asked (on a terminal, NO_COLOR unset).
"""

from __future__ import annotations

import datetime as dt

from . import vocabulary as v
from .explain import format_value
from .terminal import visible

_COLOR = {"fail": "31", "pending": "33", "pass": "32", "not_applicable": "2"}
_VERDICT_COLOR = {"eligible": "1;32", "incomplete": "1;33", "ineligible": "1;31"}
_WORDS = {
    "ja": {"case": "事例", "as_of": "時点", "verdict": "判定", "todo": "対応が必要な要件", "done": "そのほかの要件",
           "money": "金額", "error": "入力エラー", "none_todo": "対応が必要な要件はありません。"},
    "en": {"case": "Case", "as_of": "as of", "verdict": "Verdict", "todo": "Needs attention", "done": "Other requirements",
           "money": "Money", "error": "Invalid input", "none_todo": "Nothing needs attention."},
}


class _Painter:
    def __init__(self, color: bool):
        self.color = color

    def __call__(self, text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.color else text


def _due_text(due: str, as_of: str, lang: str) -> str:
    """A due date and how far it is from the as-of date: `2021年2月18日(あと8日)`."""
    day = dt.date.fromisoformat(due)
    note = v.days_left((day - dt.date.fromisoformat(as_of)).days, lang)
    when = format_value(day, "date", lang)
    return f"{when}({note})" if lang == "ja" else f"{when} ({note})"


def render_verdict(verdict: dict, stages: list, lang: str = "ja", color: bool = False,
                   amounts: dict | None = None) -> str:
    """The verdict as text; every text of the verdict is shown `visible` (no control character
    of a snapshot reaches the terminal), and the only escapes are this function's colours.
    `amounts`: the rulebook's titles of its amounts ({amount: {lang: title}})."""
    verdict = visible(verdict)
    paint = _Painter(color)
    words = _WORDS[lang]
    phrase = v.PHRASE[lang]
    status_word = v.STATUS[lang]
    stage_titles = {name: titles.get(lang, name) for name, titles in stages}
    order = {name: i for i, (name, _) in enumerate(stages)}
    lines = []
    as_of = verdict["as_of"]
    head = (f"{words['case']} {verdict['case_id']} "
            f"({format_value(dt.date.fromisoformat(as_of), 'date', lang)}{words['as_of'] if lang == 'ja' else ''})"
            if lang == "ja" else f"{words['case']} {verdict['case_id']} ({words['as_of']} {as_of})")
    lines.append(paint(head, "1"))
    why = v.VERDICT_WHY[lang][verdict["verdict"]]
    label = v.VERDICT[lang][verdict["verdict"]] + (f"({why})" if lang == "ja" else f" ({why})")
    lines.append(f"{words['verdict']}: {paint(label, _VERDICT_COLOR[verdict['verdict']])}")
    counts = verdict["counts"]
    lines.append("  " + "  ".join(f"{status_word[k]} {counts[k]}" for k in v.STATUSES))
    for warning in verdict.get("warning_messages") or verdict.get("warnings", []):
        text = warning[lang] if isinstance(warning, dict) else warning
        lines.append(paint(f"  {phrase['warning']}: {text}", "33"))

    results = verdict["results"]
    todo = [r for r in results if r["status"] in ("fail", "pending")]
    done = [r for r in results if r["status"] not in ("fail", "pending")]
    by_stage = lambda r: (order.get(r["stage"], len(order)), r["status"] != "fail")  # noqa: E731

    lines.append("")
    lines.append(paint(f"■ {words['todo']}", "1"))
    if not todo:
        lines.append(f"  {words['none_todo']}")
    def by_stages(group):
        """The results in stage order, each stage's heading before its first result."""
        current = None
        for r in sorted(group, key=by_stage):
            if r["stage"] != current:
                current = r["stage"]
                title = stage_titles.get(current, current)
                lines.append(f"  【{title}】" if lang == "ja" else f"  [{title}]")
            status = paint(f"{v.MARK[r['status']]} {status_word[r['status']]}", _COLOR[r["status"]])
            where = v.step(r["subject"], lang)
            yield r, status, f" {where}" if where else ""

    for r, status, where in by_stages(todo):
        lines.append(f"    {status}  {r['title'][lang]}{where}  ({r['rule']})")
        lines.append(f"        {r['message'][lang]}")
        if r.get("fix"):
            lines.append(f"        → {phrase['fix']}: {r['fix'][lang]}")
        if r.get("due"):
            lines.append(f"        → {phrase['due']}: {_due_text(r['due'], as_of, lang)}")

    lines.append("")
    lines.append(paint(f"■ {words['done']}", "1"))
    for r, status, where in by_stages(done):
        lines.append(f"    {status}  {r['title'][lang]}{where}: {r['message'][lang]}")

    payout = {k: v for k, v in verdict.get("payout", {}).items() if k != "steps"}
    if payout:
        lines.append("")
        lines.append(paint(f"■ {words['money']}", "1"))
        titles = v.amount_words(amounts or {}, lang)
        labels = [titles.get(k, k) for k in payout]
        width = max(_width(x) for x in labels)
        for (key, value), text in zip(payout.items(), labels):
            pad = " " * (width - _width(text))
            amount = format_value(value, "yen", lang)
            if key == "honorarium_jpy" and value < payout.get("honorarium_at_stake_jpy", value):
                amount = paint(amount, "1;31")
            elif key in ("honorarium_jpy", "expert_total_jpy"):
                amount = paint(amount, "1")
            lines.append(f"    {text}{pad}  {' ' * max(0, 12 - _width(format_value(value, 'yen', lang)))}{amount}")
    return "\n".join(lines)


def render_error(report: dict, lang: str = "ja", color: bool = False) -> str:
    """A `rulebook.error/v1` as text, its texts `visible` (a value is shown by its `repr`, which
    escapes what cannot be shown)."""
    values = [e.get("value") for e in report["errors"]]
    report = visible(report)
    paint = _Painter(color)
    words = _WORDS[lang]
    source = report.get("source") or {}
    where = f"{source.get('file')}:{source.get('line')}" if source.get("file") else ""
    who = report.get("case_id") or ""
    head = " ".join(x for x in (words["error"], where, f"({who})" if who else "") if x)
    lines = [paint(f"✗ {head}", "1;31")]
    whole = "(スナップショット全体)" if lang == "ja" else "(snapshot)"
    for e, raw in zip(report["errors"], values):
        value = "" if raw is None else visible(f" (value: {raw!r})" if lang == "en" else f"(値: {raw!r})")
        message = (e.get("messages") or {}).get(lang) or e["message"]
        where = ""
        if e.get("line"):
            if lang == "ja":
                where = f"({e['line']}行{e['column']}列)" if e.get("column") else f"({e['line']}行目)"
            else:
                where = f" (line {e['line']}, column {e['column']})" if e.get("column") else f" (line {e['line']})"
        lines.append(f"    {e['path'] or whole}{where}: {message}{value}")
    return "\n".join(lines)


def _width(text: str) -> int:
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
