"""changes: what `rulebook diff` found → text for a terminal, an HTML page, spreadsheet rows.

The text escapes control characters (`terminal.visible`); the page is a Jinja2 template with
autoescape (`changes.html.j2`, self-contained, in the audit report's style: its CSS); the
spreadsheet's text cells that a spreadsheet would read as a formula (= + - @ tab CR first) get a
leading quote, and numbers stay numbers. Japanese or English, Japanese by default.
"""

from __future__ import annotations

import functools

import jinja2
from markupsafe import Markup

from . import vocabulary
from .compare import AT_STAKE, DUE, INVALID
from .terminal import visible

WORDS = {
    "ja": {
        "title": "ルールブックの比較", "old": "変更前", "new": "変更後", "on": "{day}に判定",
        "rulebook": "ルールブック", "digest": "ダイジェスト", "version": "版",
        "book_changes": "ルールブックの違い", "added": "追加された要件", "removed": "削除された要件",
        "changed": "変更された要件", "parameters": "パラメータ", "declarations": "そのほかの宣言",
        "no_book_change": "要件とパラメータに違いはありません。", "from_day": "{day}から", "until_day": "{day}まで",
        "in_force": "{day}時点の値", "none": "なし",
        "decl_added": "追加", "decl_removed": "削除", "decl_changed": "変更",
        "kinds": {"rulebook": "ルールブックの見出し", "record": "レコード", "order": "順序", "payout": "支払"},
        "case": "事例", "verdict": "判定", "before": "変更前", "after": "変更後", "fix": "対応",
        "totals": "合計", "summary": "{cases}件の事例のうち{changed}件が変わりました。",
        "summary_none": "{cases}件の事例のどれも変わりませんでした。",
        "verdicts": "判定の変化", "cases": "事例数", "rules": "要件ごとの結果", "rule": "要件",
        "status_changes": "結果の変化", "results": "件数", "money": "金額", "sum_from": "変更前の合計",
        "sum_to": "変更後の合計", "change": "変化", "top": "金額の変化が大きい事例",
        "top_none": "金額が変わった事例はありません。", "money_note": "金額は両方で判定できた{n}件の合計です。",
        "errors": "入力エラー", "where": "入力位置", "source": "根拠",
        "of_cases": "{n}件", "of_results": "{n}件",
    },
    "en": {
        "title": "Rulebook comparison", "old": "Before", "new": "After", "on": "judged on {day}",
        "rulebook": "Rulebook", "digest": "Digest", "version": "version",
        "book_changes": "What differs between the rulebooks", "added": "Rules added", "removed": "Rules removed",
        "changed": "Rules changed", "parameters": "Parameters", "declarations": "Other declarations",
        "no_book_change": "The rules and parameters are the same.", "from_day": "from {day}",
        "until_day": "until {day}", "in_force": "in force on {day}", "none": "none",
        "decl_added": "added", "decl_removed": "removed", "decl_changed": "changed",
        "kinds": {"rulebook": "rulebook header", "record": "record", "order": "order", "payout": "payout"},
        "case": "Case", "verdict": "Verdict", "before": "before", "after": "after", "fix": "fix",
        "totals": "Totals", "summary": "{changed} of {cases} cases changed.",
        "summary_none": "None of the {cases} cases changed.",
        "verdicts": "Verdicts", "cases": "Cases", "rules": "Results by rule", "rule": "Rule",
        "status_changes": "Changes of status", "results": "Results", "money": "Money", "sum_from": "Before, in all",
        "sum_to": "After, in all", "change": "Change", "top": "Cases where the most money moved",
        "top_none": "No case's money moved.", "money_note": "Sums over the {n} cases judged on both sides.",
        "errors": "Invalid input", "where": "Input", "source": "Source",
        "of_cases": "{n} cases", "of_results": "{n} results",
    },
}
# Words of the engine's codes come from the vocabulary; these two are the diff's own.
INVALID_WORD = {"ja": "入力エラー", "en": "invalid input"}
NO_STATUS_WORD = {"ja": "なし", "en": "none"}


class Words:
    """The words and number formats of one language."""

    def __init__(self, lang: str, amounts: dict | None = None):
        if lang not in WORDS:
            raise ValueError(f"unknown language `{lang}`: expected `ja` or `en`")
        self.lang = lang
        self.w = WORDS[lang]
        self.amounts = vocabulary.amount_words(amounts or {}, lang)  # the rulebooks' titles of amounts

    def __getitem__(self, key: str):
        return self.w[key]

    def verdict(self, verdict) -> str:
        if verdict == INVALID:
            return INVALID_WORD[self.lang]
        return vocabulary.VERDICT[self.lang].get(verdict, str(verdict))

    def status(self, status) -> str:
        if status is None:
            return NO_STATUS_WORD[self.lang]
        return vocabulary.STATUS[self.lang].get(status, str(status))

    def amount(self, name: str) -> str:
        return self.amounts.get(name, name)

    def yen(self, value, signed: bool = False) -> str:
        if value is None:
            return "—"
        number = f"{value:+,}" if signed else f"{value:,}"
        number = number.replace("-", "−")
        return f"{number}円" if self.lang == "ja" else f"{number} yen"

    def text(self, value) -> str:
        """A text in this language (the other, or a plain string, if that is all there is)."""
        if isinstance(value, dict):
            return str(value.get(self.lang) or value.get("ja") or value.get("en") or "")
        return "" if value is None else str(value)

    def subject(self, subject) -> str:
        subject = str(subject)
        return "" if subject == "case" else vocabulary.step(subject, self.lang)

    def value(self, value: dict | None) -> str:
        if value is None:
            return self.w["none"]
        days = self.w["from_day"].format(day=value["from"])
        if value.get("until"):
            days += " " + self.w["until_day"].format(day=value["until"])
        return f"{value['value']} ({days})" if self.lang == "en" else f"{value['value']}({days})"

    def values(self, values: list | None) -> str:
        return "、".join(map(self.value, values)) if self.lang == "ja" and values else \
            ", ".join(map(self.value, values)) if values else self.w["none"]


# ---------------------------------------------------------------------- text


def side_label(words: Words, side: dict) -> str:
    label = f"{side['source']}  ({side['name']} {side['version']})"
    if side.get("as_of"):
        label += "  " + words["on"].format(day=side["as_of"])
    return label


def text_header(head: dict, lang: str) -> str:
    """The two rulebooks and what differs between them."""
    w = Words(lang)
    lines = [f"■ {w['title']}", f"  {w['old']}: {side_label(w, head['from'])}", f"  {w['new']}: {side_label(w, head['to'])}"]
    book = head["changes"]
    for key in ("added", "removed", "changed"):
        for rule in book["rules"][key]:
            lines.append(f"  {w[key]}: {rule['rule']}  {w.text(rule['title'])}")
    for p in book["parameters"]:
        if "in_force" in p:
            a, b = p["in_force"]["from"], p["in_force"]["to"]
            lines.append(f"  {w['parameters']} {p['name']}: {a['value'] or w['none']} ({w['in_force'].format(day=a['day'])})"
                         f" → {b['value'] or w['none']} ({w['in_force'].format(day=b['day'])})")
        else:
            lines.append(f"  {w['parameters']} {p['name']}: {w.values(p['from'])} → {w.values(p['to'])}")
    for d in book["declarations"]:
        lines.append(f"  {w['declarations']}: {w['kinds'][d['kind']]} {d['name']} ({w['decl_' + d['change']]})")
    if not any(book["rules"].values()) and not book["parameters"]:
        lines.append(f"  {w['no_book_change']}")
    return "\n".join(map(visible, lines)) + "\n"


def text_case(change: dict, lang: str, amounts: dict | None = None) -> str:
    """One case that changed: its verdict, each result that changed with both explanations, the money
    (`amounts`: the rulebooks' titles of their amounts)."""
    w = Words(lang, amounts)
    source = change.get("source") or {}
    where = f" ({source.get('file')}:{source.get('line')})" if source.get("file") else ""
    verdict = change["verdict"]
    shown = w.verdict(verdict["from"]) if verdict["from"] == verdict["to"] else \
        f"{w.verdict(verdict['from'])} → {w.verdict(verdict['to'])}"
    lines = ["", f"■ {w['case']} {change['case_id']}{where}  {w['verdict']}: {shown}"]
    for r in change["results"]:
        subject = w.subject(r["subject"])
        lines.append(f"  {r['rule']}{' ' + subject if subject else ''}: {w.status(r['from'])} → {w.status(r['to'])}"
                     f"  {w.text(r.get('title'))}".rstrip())
        for side, label in (("from", w["before"]), ("to", w["after"])):
            explained = (r.get("explanation") or {}).get(side)
            if explained and explained.get("message"):
                lines.append(f"    {label}: {w.text(explained['message'])}")
                if explained.get("fix"):
                    lines.append(f"      → {w['fix']}: {w.text(explained['fix'])}")
    for side, errors in (change.get("errors") or {}).items():
        label = w["before"] if side == "from" else w["after"]
        for error in errors:
            lines.append(f"  {w['errors']} ({label}): {error.get('path') or '(snapshot)'}: {error.get('message')}")
    for name, m in change["money"].items():
        moved = f" ({w.yen(m['change'], signed=True)})" if m["change"] is not None else ""
        lines.append(f"  {w.amount(name)}: {w.yen(m['from'])} → {w.yen(m['to'])}{moved}")
    return "\n".join(map(visible, lines)) + "\n"


def text_totals(totals: dict, lang: str, amounts: dict | None = None) -> str:
    w = Words(lang, amounts)
    key = "summary" if totals["changed"] else "summary_none"
    lines = ["", f"■ {w['totals']}", "  " + w[key].format(cases=f"{totals['cases']:,}", changed=f"{totals['changed']:,}")]
    for v in totals["verdicts"]:
        if v["from"] != v["to"]:
            lines.append(f"  {w['verdict']}: {w.verdict(v['from'])} → {w.verdict(v['to'])}  {w['of_cases'].format(n=v['cases'])}")
    for rule in totals["rules"]:
        for c in rule["changes"]:
            lines.append(f"  {rule['rule']}: {w.status(c['from'])} → {w.status(c['to'])}  "
                         f"{w['of_results'].format(n=c['results'])}")
    for name, m in totals["money"].items():
        if m["change"]:
            lines.append(f"  {w.amount(name)}: {w.yen(m['from'])} → {w.yen(m['to'])} ({w.yen(m['change'], signed=True)})")
    if totals["top"]:
        lines.append(f"  {w['top']}:")
        for case in totals["top"]:
            due = case["money"].get(DUE, {}).get("change")
            stake = case["money"].get(AT_STAKE, {}).get("change")
            moved = ", ".join(f"{w.amount(n)} {w.yen(v, signed=True)}" for n, v in ((DUE, due), (AT_STAKE, stake)) if v)
            lines.append(f"    {case['case_id']}  {moved}")
    return "\n".join(map(visible, lines)) + "\n"


# ---------------------------------------------------------------------- page


@functools.cache
def _environment() -> jinja2.Environment:
    """The templates of output/templates/ (the audit report's too, whose style sheet the page uses)."""
    return jinja2.Environment(loader=jinja2.PackageLoader("rulebook.output", "templates"), autoescape=True,
                              undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                              keep_trailing_newline=True)


def render_page(head: dict, totals: dict, lang: str = "ja", amounts: dict | None = None) -> str:
    """The self-contained HTML page of a diff: the rulebooks, the totals, the cases where the most
    money moved with the explanations of both sides. No script, no address outside the page."""
    words = Words(lang, amounts)
    env = _environment()
    css = Markup(env.loader.get_source(env, "report.css")[0])  # our own file, put in the page as it is
    return env.get_template("changes.html").render(lang=lang, w=words, head=head, totals=totals, css=css,
                                                   statuses=vocabulary.STATUSES)


# --------------------------------------------------------------- spreadsheet

SHEET_HEADERS = {
    "ja": ["事例ID", "入力位置", "判定(変更前)", "判定(変更後)", "要件", "対象", "結果(変更前)", "結果(変更後)",
           "支払われる謝金(変更前)", "支払われる謝金(変更後)", "支払われる謝金の変化", "謝金の対象額(変更前)",
           "謝金の対象額(変更後)", "謝金の対象額の変化"],
    "en": ["case id", "input", "verdict before", "verdict after", "rule", "subject", "status before", "status after",
           "honorarium due before", "honorarium due after", "change of honorarium due", "at stake before",
           "at stake after", "change of at stake"],
}
_FORMULA_FIRST = ("=", "+", "-", "@", "\t", "\r")


def cell(value):
    """A spreadsheet cell: a text that a spreadsheet would read as a formula gets a leading quote;
    numbers stay numbers, nothing stays empty."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_FIRST):
        return "'" + value
    return value


def sheet_rows(change: dict, lang: str, amounts: dict | None = None):
    """The rows of one case that changed: one a result that changed (one for the case if none did)."""
    w = Words(lang, amounts)
    source = change.get("source") or {}
    money = change["money"]
    amounts = []
    for name in (DUE, AT_STAKE):
        m = money.get(name) or {}
        amounts.extend([m.get("from"), m.get("to"), m.get("change")])
    head = [change["case_id"], f"{source.get('file')}:{source.get('line')}" if source.get("file") else None,
            w.verdict(change["verdict"]["from"]), w.verdict(change["verdict"]["to"])]
    results = change["results"] or [None]
    for r in results:
        body = [None] * 4 if r is None else [r["rule"], r["subject"], w.status(r["from"]), w.status(r["to"])]
        yield [cell(v) for v in head + body + amounts]
