"""render: explained verdicts → text for a person, in Japanese or English.

Grouped by the stages of the procedure: what needs doing first (failures,
then pending items, with the fix and the day it is due), then what passed,
then the money. Colour only when asked (on a terminal, NO_COLOR unset).
"""

from __future__ import annotations

import datetime as dt

from .explain import format_value

_STATUS = {
    "ja": {"fail": "不適合", "pending": "未完了", "pass": "適合", "not_applicable": "対象外"},
    "en": {"fail": "FAIL", "pending": "PENDING", "pass": "pass", "not_applicable": "n/a"},
}
_MARK = {"fail": "✗", "pending": "…", "pass": "✓", "not_applicable": "–"}
_COLOR = {"fail": "31", "pending": "33", "pass": "32", "not_applicable": "2"}
_VERDICT = {
    "ja": {"eligible": "謝金の対象(すべての要件を満たしています)",
           "incomplete": "未完了(まだ決まらない要件があります)",
           "ineligible": "対象外(満たしていない要件があります)"},
    "en": {"eligible": "eligible (every requirement is met)",
           "incomplete": "incomplete (some requirements are still open)",
           "ineligible": "ineligible (some requirements are not met)"},
}
_VERDICT_COLOR = {"eligible": "1;32", "incomplete": "1;33", "ineligible": "1;31"}
_WORDS = {
    "ja": {"case": "事例", "as_of": "時点", "verdict": "判定", "todo": "対応が必要な要件", "done": "そのほかの要件",
           "fix": "対応", "due": "期限", "left": "あと{n}日", "overdue": "{n}日超過", "today": "今日まで",
           "money": "金額", "step": "ステップ{n}", "error": "入力エラー", "none_todo": "対応が必要な要件はありません。",
           "warning": "注意", "rulebook": "ルールブック"},
    "en": {"case": "Case", "as_of": "as of", "verdict": "Verdict", "todo": "Needs attention", "done": "Other requirements",
           "fix": "fix", "due": "due", "left": "{n} days left", "overdue": "{n} days overdue", "today": "due today",
           "money": "Money", "step": "step {n}", "error": "Invalid input", "none_todo": "Nothing needs attention.",
           "warning": "warning", "rulebook": "rulebook"},
}
# Labels of the payout amounts of verdict-output.md; other amounts show their names.
_AMOUNTS = {
    "client_paid_jpy": {"ja": "クライアントの支払額(ランサーズ上)", "en": "Client pays on Lancers"},
    "platform_fee_jpy": {"ja": "ランサーズの手数料(見込み)", "en": "Platform fee (estimate)"},
    "expert_receives_jpy": {"ja": "ランサーが受け取る報酬", "en": "Expert receives on Lancers"},
    "honorarium_jpy": {"ja": "支払われる謝金", "en": "Honorarium due"},
    "honorarium_at_stake_jpy": {"ja": "謝金の対象額(要件をすべて満たした場合)", "en": "Honorarium at stake"},
    "expert_total_jpy": {"ja": "ランサーの受取合計", "en": "Expert's total"},
}


class _Painter:
    def __init__(self, color: bool):
        self.color = color

    def __call__(self, text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.color else text


def _subject(subject: str, lang: str) -> str:
    if subject.startswith("step:"):
        return _WORDS[lang]["step"].format(n=subject[5:])
    return ""


def _due_text(due: str, as_of: str, lang: str) -> str:
    day = dt.date.fromisoformat(due)
    left = (day - dt.date.fromisoformat(as_of)).days
    words = _WORDS[lang]
    when = format_value(day, "date", lang)
    if left > 0:
        return f"{when}({words['left'].format(n=left)})" if lang == "ja" else f"{when} ({words['left'].format(n=left)})"
    if left == 0:
        return f"{when}({words['today']})" if lang == "ja" else f"{when} ({words['today']})"
    return f"{when}({words['overdue'].format(n=-left)})" if lang == "ja" else f"{when} ({words['overdue'].format(n=-left)})"


def render_verdict(verdict: dict, stages: list, lang: str = "ja", color: bool = False) -> str:
    paint = _Painter(color)
    words = _WORDS[lang]
    stage_titles = {name: titles.get(lang, name) for name, titles in stages}
    order = {name: i for i, (name, _) in enumerate(stages)}
    lines = []
    as_of = verdict["as_of"]
    head = (f"{words['case']} {verdict['case_id']} "
            f"({format_value(dt.date.fromisoformat(as_of), 'date', lang)}{words['as_of'] if lang == 'ja' else ''})"
            if lang == "ja" else f"{words['case']} {verdict['case_id']} ({words['as_of']} {as_of})")
    lines.append(paint(head, "1"))
    label = _VERDICT[lang][verdict["verdict"]]
    lines.append(f"{words['verdict']}: {paint(label, _VERDICT_COLOR[verdict['verdict']])}")
    counts = verdict["counts"]
    lines.append("  " + "  ".join(f"{_STATUS[lang][k]} {counts[k]}" for k in ("fail", "pending", "pass", "not_applicable")))
    for warning in verdict.get("warning_messages") or verdict.get("warnings", []):
        text = warning[lang] if isinstance(warning, dict) else warning
        lines.append(paint(f"  {words['warning']}: {text}", "33"))

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
            status = paint(f"{_MARK[r['status']]} {_STATUS[lang][r['status']]}", _COLOR[r["status"]])
            where = _subject(r["subject"], lang)
            yield r, status, f" {where}" if where else ""

    for r, status, where in by_stages(todo):
        lines.append(f"    {status}  {r['title'][lang]}{where}  ({r['rule']})")
        lines.append(f"        {r['message'][lang]}")
        if r.get("fix"):
            lines.append(f"        → {words['fix']}: {r['fix'][lang]}")
        if r.get("due"):
            lines.append(f"        → {words['due']}: {_due_text(r['due'], as_of, lang)}")

    lines.append("")
    lines.append(paint(f"■ {words['done']}", "1"))
    for r, status, where in by_stages(done):
        lines.append(f"    {status}  {r['title'][lang]}{where}: {r['message'][lang]}")

    payout = {k: v for k, v in verdict.get("payout", {}).items() if k != "steps"}
    if payout:
        lines.append("")
        lines.append(paint(f"■ {words['money']}", "1"))
        labels = [_AMOUNTS.get(k, {}).get(lang, k) for k in payout]
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
    paint = _Painter(color)
    words = _WORDS[lang]
    source = report.get("source") or {}
    where = f"{source.get('file')}:{source.get('line')}" if source.get("file") else ""
    who = report.get("case_id") or ""
    head = " ".join(x for x in (words["error"], where, f"({who})" if who else "") if x)
    lines = [paint(f"✗ {head}", "1;31")]
    whole = "(スナップショット全体)" if lang == "ja" else "(snapshot)"
    for e in report["errors"]:
        value = "" if e.get("value") is None else f" (value: {e['value']!r})" if lang == "en" else f"(値: {e['value']!r})"
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
