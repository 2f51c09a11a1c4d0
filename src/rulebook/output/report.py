"""report: an audit's summary and explained verdicts → one self-contained HTML page.

`render_report(summary, cases, lang)` gives the `report.html` of `rulebook audit`:
a header, the totals, an inline SVG chart of failures by rule, the cases with the
most money at stake (each linked to its explanation further down), the
cross-case checks, the tables per expert and per SME, and what changed since
the previous audit. Inline CSS and SVG only: no script, no font, no image, no
address outside the page, so it opens offline and prints.

Every piece of data goes through `html.escape`; the output depends only on the
inputs (no clock, no set order), so the same audit gives the same bytes.
Standard library only, and nothing from the rest of the package.
"""

from __future__ import annotations

import datetime as dt
import html
import json

__all__ = ["render_report", "TABLE_LIMIT"]

TABLE_LIMIT = 50  # rows of the expert and SME tables; the rest stay in summary.json

_VERDICTS = ("eligible", "incomplete", "ineligible")
_STATUSES = ("fail", "pending", "pass", "not_applicable")
_MARK = {"fail": "✗", "pending": "…", "pass": "✓", "not_applicable": "–"}

_WORDS = {
    "ja": {
        "report": "監査報告", "rulebook": "ルールブック", "version": "版", "digest": "ダイジェスト",
        "inputs": "入力", "cases": "事例数", "errors": "入力エラー", "as_of": "判定日",
        "contents": "目次", "totals": "集計", "by_verdict": "判定別の事例数", "verdict": "判定",
        "count": "件数", "share": "割合", "total": "合計", "money": "金額",
        "due": "支払われる謝金", "at_stake": "謝金の対象額(要件をすべて満たした場合)",
        "claimed": "請求額", "held_back": "支払われない謝金(対象額 − 支払額)",
        "due_short": "支払額", "at_stake_short": "対象額", "held_short": "不支給額",
        "chart": "要件別の不適合", "fail": "不適合", "pending": "未完了",
        "chart_count": "{fail}件", "chart_pending": "(未完了 {pending}件)",
        "no_failures": "不適合・未完了の要件はありません。",
        "other_rules": "ほかの{n}件の要件には不適合も未完了もありません。",
        "rule_table": "すべての要件の内訳", "rule": "要件", "stage": "段階",
        "top": "謝金の対象額が大きい事例", "top_none": "一覧にする事例はありません。",
        "top_note": "対象額の大きい順に{n}件。事例IDから説明へ移動できます。",
        "case": "事例", "failed": "不適合の要件", "expert": "IT専門家", "sme": "中小企業",
        "where": "入力位置",
        "checks": "事例をまたぐ確認",
        "duplicates": "重複した事例ID", "duplicates_none": "重複した事例IDはありません。",
        "times": "回数",
        "hours": "1日の作業時間が上限を超える専門家",
        "hours_none": "1日の作業時間が上限を超える専門家はいません。",
        "day": "日付", "hours_col": "作業時間", "bound": "上限",
        "experts": "IT専門家別", "smes": "中小企業別", "name": "名前", "ineligible_n": "対象外",
        "table_none": "ありません。",
        "table_note": "対象額の大きい順に上位{shown}件を表示しています。ほか{more}件は summary.json にあります。",
        "since": "前回の監査からの変化", "previous": "前回", "changed": "判定が変わった事例",
        "changed_none": "判定が変わった事例はありません。", "from": "前回", "to": "今回",
        "new_failures": "新たな不適合", "new_failures_none": "新たな不適合はありません。",
        "subject": "対象", "results": "要件の結果", "item": "項目", "amount": "金額",
        "money_moved": "金額の変化", "money_moved_none": "金額の変化はありません。",
        "explanations": "事例の説明", "todo": "対応が必要な要件", "none_todo": "対応が必要な要件はありません。",
        "others": "そのほかの要件({n}件)", "fix": "対応", "due_on": "期限",
        "facts": "判断に使った値と根拠", "source": "根拠", "back": "↑ 一覧へ戻る",
        "missing": "この事例の説明は含まれていません。", "invalid": "入力エラー",
        "value": "値", "path": "項目", "warning": "注意", "step": "ステップ{n}",
        "left": "あと{n}日", "overdue": "{n}日超過", "today": "今日まで", "case_word": "事例",
        "more_inputs": "ほか{n}件", "none": "なし", "with_errors": "(ほかに入力エラー {n}件)",
        "list_note": "最初の{shown}件を表示しています。全{total}件は {file} にあります。",
    },
    "en": {
        "report": "Audit report", "rulebook": "Rulebook", "version": "Version", "digest": "Digest",
        "inputs": "Inputs", "cases": "Cases", "errors": "Invalid inputs", "as_of": "As of",
        "contents": "Contents", "totals": "Totals", "by_verdict": "Cases by verdict", "verdict": "Verdict",
        "count": "Cases", "share": "Share", "total": "Total", "money": "Money",
        "due": "Honorarium due", "at_stake": "Honorarium at stake (if every requirement is met)",
        "claimed": "Claimed", "held_back": "Held back (at stake − due)",
        "due_short": "Due", "at_stake_short": "At stake", "held_short": "Held back",
        "chart": "Failures by rule", "fail": "fail", "pending": "pending",
        "chart_count": "{fail}", "chart_pending": " (+{pending} pending)",
        "no_failures": "No rule failed and none is pending.",
        "other_rules": "The other {n} rules have no failures and nothing pending.",
        "rule_table": "Every rule in numbers", "rule": "Rule", "stage": "Stage",
        "top": "Cases with the most money at stake", "top_none": "No cases to list.",
        "top_note": "{n} cases, most money at stake first. Each case id links to its explanation.",
        "case": "Case", "failed": "Failed rules", "expert": "Expert", "sme": "SME",
        "where": "Where",
        "checks": "Cross-case checks",
        "duplicates": "Duplicate case ids", "duplicates_none": "No case id appears more than once.",
        "times": "Times",
        "hours": "Implausible hours in a day", "hours_none": "No expert works more hours in a day than the bound.",
        "day": "Day", "hours_col": "Hours", "bound": "Bound",
        "experts": "By expert", "smes": "By SME", "name": "Name", "ineligible_n": "Ineligible",
        "table_none": "None.",
        "table_note": "The top {shown} by money at stake; {more} more are in summary.json.",
        "since": "Since the previous audit", "previous": "Previous", "changed": "Verdicts that changed",
        "changed_none": "No verdict changed.", "from": "Before", "to": "Now",
        "new_failures": "New failures", "new_failures_none": "No new failures.",
        "subject": "Subject", "results": "Results", "item": "Item", "amount": "Amount",
        "money_moved": "Money moved", "money_moved_none": "No money moved.",
        "explanations": "Case explanations", "todo": "Needs attention", "none_todo": "Nothing needs attention.",
        "others": "Other requirements ({n})", "fix": "Fix", "due_on": "Due",
        "facts": "Facts and source", "source": "Source", "back": "↑ Back to the list",
        "missing": "This case's explanation is not included.", "invalid": "Invalid input",
        "value": "value", "path": "Field", "warning": "Warning", "step": "step {n}",
        "left": "{n} days left", "overdue": "{n} days overdue", "today": "due today", "case_word": "case",
        "more_inputs": "{n} more", "none": "none", "with_errors": " (and {n} invalid inputs)",
        "list_note": "The first {shown} are shown; all {total} are in {file}.",
    },
}
_VERDICT_LABEL = {
    "ja": {"eligible": "謝金の対象", "incomplete": "未完了", "ineligible": "対象外"},
    "en": {"eligible": "eligible", "incomplete": "incomplete", "ineligible": "ineligible"},
}
_STATUS_LABEL = {
    "ja": {"fail": "不適合", "pending": "未完了", "pass": "適合", "not_applicable": "対象外"},
    "en": {"fail": "FAIL", "pending": "PENDING", "pass": "pass", "not_applicable": "n/a"},
}
_MONEY_KEYS = ("honorarium_due_jpy", "honorarium_at_stake_jpy", "claimed_jpy")
_MONEY_LABEL = {
    "ja": {"honorarium_due_jpy": "支払われる謝金", "honorarium_at_stake_jpy": "謝金の対象額",
           "claimed_jpy": "請求額"},
    "en": {"honorarium_due_jpy": "Honorarium due", "honorarium_at_stake_jpy": "Honorarium at stake",
           "claimed_jpy": "Claimed"},
}

_CSS = """
:root{--fail:#c62828;--pending:#b26a00;--ok:#2e7d32;--muted:#5f6368;--line:#d7dbe0;--bg:#f6f8fa}
*{box-sizing:border-box}
body{margin:0 auto;max-width:72rem;padding:1.5rem 2rem 4rem;color:#1f2328;background:#fff;
font-family:system-ui,-apple-system,"Segoe UI","Hiragino Sans","Hiragino Kaku Gothic ProN","Noto Sans JP",
"Yu Gothic UI",Meiryo,sans-serif;font-size:15px;line-height:1.6}
h1{font-size:1.6rem;margin:0 0 .25rem}
h2{font-size:1.3rem;margin:2.5rem 0 .75rem;padding-bottom:.25rem;border-bottom:2px solid var(--line)}
h3{font-size:1.1rem;margin:1.5rem 0 .5rem}
h4{font-size:1rem;margin:1rem 0 .25rem}
a{color:#0b57d0}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.85em;color:var(--muted)}
.muted,.note{color:var(--muted)}
.note{font-size:.9rem}
header dl,.meta{display:grid;grid-template-columns:max-content 1fr;gap:.1rem 1rem;margin:.75rem 0}
dt{color:var(--muted)}
dd{margin:0;overflow-wrap:anywhere}
nav ol{columns:2;margin:.5rem 0;padding-left:1.5rem}
.scroll{overflow-x:auto}
table{border-collapse:collapse;margin:.5rem 0 1rem;font-size:.92rem}
th,td{border-bottom:1px solid var(--line);padding:.3rem .6rem;text-align:left;vertical-align:top}
th{background:var(--bg);font-weight:600}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tr.total td{font-weight:600;border-top:2px solid var(--line)}
td.ids{overflow-wrap:anywhere}
td.failed{font-size:.85rem;min-width:14rem}
.badge{display:inline-block;padding:0 .5rem;border-radius:.75rem;font-size:.85rem;font-weight:600;
border:1px solid currentColor;white-space:nowrap}
.v-eligible{color:var(--ok)}.v-incomplete{color:var(--pending)}.v-ineligible{color:var(--fail)}
.chart{width:100%;max-width:60rem;height:auto;display:block;margin:.5rem 0}
.chart text{font-size:13px;fill:#1f2328}
.chart .count{font-variant-numeric:tabular-nums}
.bar-fail{fill:var(--fail)}.bar-pending{fill:#f0a020}
article.case{border-top:1px solid var(--line);margin-top:1.5rem;padding-top:.5rem}
article.case h3{margin-top:.5rem}
ol.results{list-style:none;padding:0;margin:.25rem 0}
ol.results>li{border-left:4px solid var(--line);padding:.25rem .75rem;margin:.5rem 0;background:var(--bg);
break-inside:avoid}
ol.results>li.fail{border-left-color:var(--fail)}
ol.results>li.pending{border-left-color:var(--pending)}
li p{margin:.15rem 0}
.st-fail{color:var(--fail);font-weight:600}.st-pending{color:var(--pending);font-weight:600}
.st-pass{color:var(--ok)}.st-not_applicable{color:var(--muted)}
.fix,.due{font-weight:500}
details{margin:.25rem 0}
summary{cursor:pointer;color:var(--muted)}
details.passes ul{margin:.25rem 0;padding-left:1.25rem;font-size:.9rem}
details.facts dl{grid-template-columns:max-content 1fr;display:grid;gap:0 1rem;font-size:.85rem}
blockquote{margin:.25rem 0;padding-left:.75rem;border-left:3px solid var(--line);color:var(--muted);font-size:.85rem}
.back{font-size:.85rem}
:target{outline:2px solid #0b57d0;outline-offset:4px}
footer{margin-top:3rem;font-size:.8rem;color:var(--muted)}
@page{size:A4;margin:14mm}
@media print{
body{max-width:none;padding:0;font-size:10pt}
nav,.back{display:none}
a{color:inherit;text-decoration:none}
h2,h3,h4{break-after:avoid}
tr,ol.results>li{break-inside:avoid}
thead{display:table-header-group}
.scroll{overflow:visible}
ol.results>li{background:none}
table.top{font-size:8pt}
}
"""


def e(value) -> str:
    """Any value as escaped HTML text (attributes included)."""
    return html.escape("" if value is None else str(value), quote=True)


class _Page:
    """What the sections share: the language, its words, the rules' titles, the anchors of the cases."""

    def __init__(self, summary: dict, lang: str):
        self.lang = lang
        self.w = _WORDS[lang]
        self.rule_titles = {}
        for rule in summary.get("rules") or []:
            self.rule_titles.setdefault(rule.get("rule"), self.text(rule.get("title")) or str(rule.get("rule")))
        self.anchors: dict = {}      # case id → anchor of its first explanation
        self.used: set = set()

    # -------------------------------------------------------------- values

    def text(self, value) -> str:
        """A bilingual text in this page's language (the other one, or a plain string, if that is all there is)."""
        if value is None:
            return ""
        if isinstance(value, dict):
            for key in (self.lang, "ja", "en"):
                if value.get(key):
                    return str(value[key])
            return next((str(v) for v in value.values() if v), "")
        return str(value)

    def yen(self, value, signed: bool = False) -> str:
        number = _number(value, signed)
        return f"{number}円" if self.lang == "ja" else f"{number} yen"

    def hours(self, value) -> str:
        number = _number(value)
        return f"{number}時間" if self.lang == "ja" else f"{number} {'hour' if value == 1 else 'hours'}"

    def date(self, value) -> str:
        try:
            day = dt.date.fromisoformat(str(value))
        except ValueError:
            return str(value)
        return f"{day.year}年{day.month}月{day.day}日" if self.lang == "ja" else day.isoformat()

    def verdict(self, verdict) -> str:
        label = _VERDICT_LABEL[self.lang].get(verdict, str(verdict))
        cls = f" v-{verdict}" if verdict in _VERDICTS else ""
        return f'<span class="badge{cls}">{e(label)}</span>'

    def rule(self, rule_id) -> str:
        return e(self.rule_titles.get(rule_id, rule_id))

    def subject(self, subject) -> str:
        subject = "" if subject is None else str(subject)
        if subject.startswith("step:"):
            return self.w["step"].format(n=subject[5:])
        return "" if subject == "case" else subject

    # ------------------------------------------------------------- anchors

    def claim_anchor(self, case_id) -> str:
        base = "case-" + "".join(ch if (ch.isascii() and ch.isalnum()) or ch in "-." else f"_{ord(ch):x}_"
                                 for ch in str(case_id))
        anchor, n = base, 2
        while anchor in self.used:
            anchor, n = f"{base}~{n}", n + 1
        self.used.add(anchor)
        self.anchors.setdefault(str(case_id), anchor)
        return anchor

    def case_link(self, case_id) -> str:
        anchor = self.anchors.get(str(case_id))
        if anchor is None:
            return f'<span class="cid">{e(case_id)}</span>'
        return f'<a class="cid" href="#{e(anchor)}">{e(case_id)}</a>'


def _number(value, signed: bool = False) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        try:
            value = float(value) if "." in str(value) else int(value)
        except (TypeError, ValueError):
            return str(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = f"{value:+,}" if signed else f"{value:,}"
    return text.replace("-", "−")


def _int(value) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _table(head: list[tuple[str, bool]], rows: list[str], extra_class: str = "") -> str:
    """A table with a header of (label, numeric) and rows already made of <td>s."""
    cells = "".join(f'<th scope="col" class="n">{label}</th>' if numeric else f'<th scope="col">{label}</th>'
                    for label, numeric in head)
    cls = f' class="{extra_class}"' if extra_class else ""
    return (f'<div class="scroll"><table{cls}><thead><tr>{cells}</tr></thead><tbody>'
            + "".join(rows) + "</tbody></table></div>")


def _td(content: str, numeric: bool = False, cls: str = "") -> str:
    classes = " ".join(c for c in ("n" if numeric else "", cls) if c)
    return f'<td class="{classes}">{content}</td>' if classes else f"<td>{content}</td>"


# ------------------------------------------------------------------ sections


def _header(page: _Page, summary: dict) -> str:
    w = page.w
    book = summary.get("rulebook") or {}
    title = page.text(summary.get("title")) or str(book.get("name") or "")
    digest = str(book.get("digest") or "")
    short = digest if len(digest) <= 19 else digest[:19] + "…"
    inputs = [str(x) for x in summary.get("inputs") or []]
    shown = ", ".join(e(x) for x in inputs[:20]) or e(w["none"])
    if len(inputs) > 20:
        shown += " " + e(w["more_inputs"].format(n=f"{len(inputs) - 20:,}"))
    rows = [
        (w["rulebook"], f"{e(book.get('name'))}"),
        (w["version"], e(book.get("version"))),
        (w["digest"], f'<code title="{e(digest)}">{e(short)}</code>'),
        (w["inputs"], shown),
        (w["cases"], e(_number(summary.get("cases", 0)))),
        (w["errors"], e(_number(summary.get("errors", 0)))),
    ]
    if summary.get("as_of"):
        rows.append((w["as_of"], e(page.date(summary["as_of"]))))
    items = "".join(f"<dt>{e(k)}</dt><dd>{v}</dd>" for k, v in rows)
    return (f'<header id="top"><p class="muted">{e(w["report"])}</p><h1>{e(title)}</h1>'
            f"<dl>{items}</dl></header>")


def _nav(page: _Page, sections: list[tuple[str, str]]) -> str:
    items = "".join(f'<li><a href="#{anchor}">{e(title)}</a></li>' for anchor, title in sections)
    return f'<nav aria-label="{e(page.w["contents"])}"><h2>{e(page.w["contents"])}</h2><ol>{items}</ol></nav>'


def _totals(page: _Page, summary: dict) -> str:
    w = page.w
    verdicts = summary.get("verdicts") or {}
    judged = sum(_int(verdicts.get(v)) for v in _VERDICTS)
    rows = []
    for v in list(_VERDICTS) + [k for k in verdicts if k not in _VERDICTS]:
        n = _int(verdicts.get(v))
        share = f"{100 * n / judged:.1f}%" if judged else "—"
        rows.append(f"<tr>{_td(page.verdict(v))}{_td(e(_number(n)), True)}{_td(e(share), True)}</tr>")
    rows.append(f'<tr class="total">{_td(e(w["total"]))}{_td(e(_number(judged)), True)}'
                f'{_td("100.0%" if judged else "—", True)}</tr>')
    errors = _int(summary.get("errors"))
    by_verdict = _table([(e(w["verdict"]), False), (e(w["count"]), True), (e(w["share"]), True)], rows)
    if errors:
        by_verdict += f'<p class="note">{e(w["with_errors"].format(n=f"{errors:,}").strip())}</p>'

    money = summary.get("money") or {}
    due, stake, claimed = (_int(money.get(k)) for k in _MONEY_KEYS)
    money_rows = [
        (w["due"], due), (w["at_stake"], stake), (w["claimed"], claimed), (w["held_back"], stake - due),
    ]
    money_table = _table([(e(w["item"]), False), (e(w["amount"]), True)],
                         [f"<tr>{_td(e(k))}{_td(e(page.yen(v)), True)}</tr>" for k, v in money_rows])
    return (f'<section id="totals"><h2>{e(w["totals"])}</h2><h3>{e(w["by_verdict"])}</h3>{by_verdict}'
            f'<h3>{e(w["money"])}</h3>{money_table}</section>')


def _chart(page: _Page, summary: dict) -> str:
    w = page.w
    rules = [r for r in summary.get("rules") or [] if isinstance(r, dict)]
    shown = sorted((r for r in rules if _int(r.get("fail")) or _int(r.get("pending"))),
                   key=lambda r: (-_int(r.get("fail")), -_int(r.get("pending"))))
    parts = [f'<section id="rules"><h2>{e(w["chart"])}</h2>']
    if not shown:
        parts.append(f'<p class="none">{e(w["no_failures"])}</p>')
    else:
        width, left, bar_max, row, top = 900, 4, 620, 40, 30
        biggest = max(_int(r.get("fail")) + _int(r.get("pending")) for r in shown) or 1
        height = top + row * len(shown) + 4
        svg = [f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
               f'role="img" aria-labelledby="chart-title"><title id="chart-title">{e(w["chart"])}</title>',
               f'<rect class="bar-fail" x="{left}" y="6" width="12" height="12"/>'
               f'<text x="{left + 18}" y="17">{e(w["fail"])}</text>'
               f'<rect class="bar-pending" x="{left + 110}" y="6" width="12" height="12"/>'
               f'<text x="{left + 128}" y="17">{e(w["pending"])}</text>']
        for i, r in enumerate(shown):
            fail, pending = _int(r.get("fail")), _int(r.get("pending"))
            y = top + i * row
            title = page.text(r.get("title")) or str(r.get("rule"))
            label = f"{title} ({r.get('rule')})"
            if len(label) > 110:
                label = label[:109] + "…"
            wf = bar_max * fail / biggest
            wp = bar_max * pending / biggest
            count = w["chart_count"].format(fail=f"{fail:,}")
            if pending:
                count += w["chart_pending"].format(pending=f"{pending:,}")
            tip = f"{title} ({r.get('rule')}): {w['fail']} {fail:,}, {w['pending']} {pending:,}"
            svg.append(f'<g><title>{e(tip)}</title><text x="{left}" y="{y + 13}">{e(label)}</text>'
                       f'<rect class="bar-fail" x="{left}" y="{y + 18}" width="{wf:.1f}" height="16"/>'
                       f'<rect class="bar-pending" x="{left + wf:.1f}" y="{y + 18}" width="{wp:.1f}" height="16"/>'
                       f'<text class="count" x="{left + wf + wp + 6:.1f}" y="{y + 31}">{e(count)}</text></g>')
        svg.append("</svg>")
        parts.append("".join(svg))
        rest = len(rules) - len(shown)
        if rest:
            parts.append(f'<p class="note">{e(w["other_rules"].format(n=rest))}</p>')
    if rules:
        labels = _STATUS_LABEL[page.lang]
        head = [(e(w["rule"]), False), (e(w["stage"]), False)] + [(e(labels[s]), True) for s in _STATUSES]
        rows = [f"<tr>{_td(e(page.text(r.get('title')) or r.get('rule')) + ' <code>' + e(r.get('rule')) + '</code>')}"
                f"{_td(e(r.get('stage')))}" + "".join(_td(e(_number(_int(r.get(s)))), True) for s in _STATUSES)
                + "</tr>" for r in rules]
        parts.append(f'<details class="rule-table"><summary>{e(w["rule_table"])}</summary>{_table(head, rows)}</details>')
    parts.append("</section>")
    return "".join(parts)


def _top_cases(page: _Page, tops: list[dict], anchors: list[str]) -> str:
    w = page.w
    parts = [f'<section id="top-cases"><h2>{e(w["top"])}</h2>']
    if not tops:
        parts.append(f'<p class="none">{e(w["top_none"])}</p></section>')
        return "".join(parts)
    parts.append(f'<p class="note">{e(w["top_note"].format(n=f"{len(tops):,}"))}</p>')
    head = [("#", True), (e(w["case"]), False), (e(w["verdict"]), False), (e(w["failed"]), False),
            (e(w["due_short"]), True), (e(w["at_stake_short"]), True), (e(w["claimed"]), True),
            (e(w["expert"]), False), (e(w["sme"]), False), (e(w["where"]), False)]
    rows = []
    for i, (top, anchor) in enumerate(zip(tops, anchors), 1):
        failed = ("、" if page.lang == "ja" else "; ").join(page.rule(r) for r in top.get("failed") or [])
        link = f'<a class="cid" href="#{e(anchor)}">{e(top.get("case_id"))}</a>'
        rows.append(f'<tr id="row-{e(anchor)}">{_td(str(i), True)}{_td(link)}'
                    f'{_td(page.verdict(top.get("verdict")))}{_td(failed or "—", cls="failed")}'
                    + "".join(_td(e(page.yen(top.get(k))), True) for k in _MONEY_KEYS)
                    + f'{_td(e(top.get("expert")))}{_td(e(top.get("sme")))}{_td(e(top.get("where")), cls="ids")}</tr>')
    parts.append(_table(head, rows, "top"))
    parts.append("</section>")
    return "".join(parts)


def _list_note(page: _Page, shown: int, total, file: str) -> str:
    """A note under a list cut short: the summary lists the first entries, `file` all of them."""
    total = _int(total)
    if total <= shown:
        return ""
    return f'<p class="note">{e(page.w["list_note"].format(shown=f"{shown:,}", total=f"{total:,}", file=file))}</p>'


def _more(page: _Page, listed: int, count) -> str:
    """", and N more" after a list of `listed` items out of `count`."""
    rest = _int(count) - listed
    return ("、" if page.lang == "ja" else ", ") + e(page.w["more_inputs"].format(n=f"{rest:,}")) if rest > 0 else ""


def _checks(page: _Page, summary: dict) -> str:
    w = page.w
    parts = [f'<section id="checks"><h2>{e(w["checks"])}</h2><h3>{e(w["duplicates"])}</h3>']
    duplicates = summary.get("duplicates") or []
    if not duplicates:
        parts.append(f'<p class="none">{e(w["duplicates_none"])}</p>')
    else:
        rows = []
        for d in duplicates:
            where = d.get("where") or []
            places = ", ".join(e(x) for x in where) + _more(page, len(where), d.get("count"))
            rows.append(f"<tr>{_td(page.case_link(d.get('case_id')))}{_td(e(_number(d.get('count'))), True)}"
                        f"{_td(places, cls='ids')}</tr>")
        parts.append(_table([(e(w["case"]), False), (e(w["times"]), True), (e(w["where"]), False)], rows))
        parts.append(_list_note(page, len(duplicates), summary.get("duplicates_total"), "duplicates.csv"))
    parts.append(f'<h3>{e(w["hours"])}</h3>')
    hours = summary.get("implausible_hours") or []
    if not hours:
        parts.append(f'<p class="none">{e(w["hours_none"])}</p>')
    else:
        rows = []
        for h in hours:
            cases = h.get("cases") or []
            links = ", ".join(page.case_link(c) for c in cases) + _more(page, len(cases), h.get("case_count"))
            rows.append(f"<tr>{_td(e(h.get('expert')))}{_td(e(page.date(h.get('day'))))}"
                        f"{_td(e(page.hours(h.get('hours'))), True)}{_td(e(page.hours(h.get('bound'))), True)}"
                        f"{_td(links, cls='ids')}</tr>")
        parts.append(_table([(e(w["expert"]), False), (e(w["day"]), False), (e(w["hours_col"]), True),
                             (e(w["bound"]), True), (e(w["case"]), False)], rows))
        parts.append(_list_note(page, len(hours), summary.get("implausible_hours_total"), "hours.csv"))
    parts.append("</section>")
    return "".join(parts)


def _people(page: _Page, entries: list, anchor: str, title: str, who: str) -> str:
    w = page.w
    parts = [f'<section id="{anchor}"><h2>{e(title)}</h2>']
    entries = [x for x in entries or [] if isinstance(x, dict)]
    if not entries:
        parts.append(f'<p class="none">{e(w["table_none"])}</p></section>')
        return "".join(parts)
    ranked = sorted(entries, key=lambda x: -_int(x.get("honorarium_at_stake_jpy")))
    shown = ranked[:TABLE_LIMIT]
    head = [(e(who), False), (e(w["cases"]), True), (e(w["ineligible_n"]), True)] + \
        [(e(_MONEY_LABEL[page.lang][k]), True) for k in _MONEY_KEYS] + [(e(w["held_short"]), True)]
    rows = [f"<tr>{_td(e(x.get('name')))}{_td(e(_number(x.get('cases'))), True)}"
            f"{_td(e(_number(x.get('ineligible'))), True)}"
            + "".join(_td(e(page.yen(x.get(k))), True) for k in _MONEY_KEYS)
            + _td(e(page.yen(_int(x.get("honorarium_at_stake_jpy")) - _int(x.get("honorarium_due_jpy")))), True)
            + "</tr>" for x in shown]
    parts.append(_table(head, rows))
    if len(ranked) > len(shown):
        parts.append(f'<p class="note">{e(w["table_note"].format(shown=len(shown), more=f"{len(ranked) - len(shown):,}"))}</p>')
    parts.append("</section>")
    return "".join(parts)


def _since(page: _Page, since: dict) -> str:
    w = page.w
    parts = [f'<section id="since"><h2>{e(w["since"])}</h2>']
    if since.get("previous"):
        parts.append(f'<p>{e(w["previous"])}: <code>{e(since["previous"])}</code></p>')
    parts.append(f'<h3>{e(w["changed"])}</h3>')
    changed = since.get("changed") or []
    if not changed:
        parts.append(f'<p class="none">{e(w["changed_none"])}</p>')
    else:
        rows = [f"<tr>{_td(page.case_link(c.get('case_id')))}{_td(page.verdict(c.get('from')))}"
                f"{_td(page.verdict(c.get('to')))}</tr>" for c in changed]
        parts.append(_table([(e(w["case"]), False), (e(w["from"]), False), (e(w["to"]), False)], rows))
        parts.append(_list_note(page, len(changed), since.get("changed_total"), "changes.csv"))
    parts.append(f'<h3>{e(w["new_failures"])}</h3>')
    failures = since.get("new_failures") or []
    if not failures:
        parts.append(f'<p class="none">{e(w["new_failures_none"])}</p>')
    else:
        rows = [f"<tr>{_td(page.case_link(f.get('case_id')))}"
                f"{_td(page.rule(f.get('rule')) + ' <code>' + e(f.get('rule')) + '</code>')}"
                f"{_td(e(page.subject(f.get('subject')) or w['case_word']))}</tr>" for f in failures]
        parts.append(_table([(e(w["case"]), False), (e(w["rule"]), False), (e(w["subject"]), False)], rows))
        parts.append(_list_note(page, len(failures), since.get("new_failures_total"), "changes.csv"))
    parts.append(f'<h3>{e(w["money_moved"])}</h3>')
    moved = since.get("money_moved") or {}
    if not moved:
        parts.append(f'<p class="none">{e(w["money_moved_none"])}</p>')
    else:
        keys = [k for k in _MONEY_KEYS if k in moved] + [k for k in moved if k not in _MONEY_KEYS]
        rows = [f"<tr>{_td(e(_MONEY_LABEL[page.lang].get(k, k)))}{_td(e(page.yen(moved[k], signed=True)), True)}</tr>"
                for k in keys]
        parts.append(_table([(e(w["item"]), False), (e(w["amount"]), True)], rows))
    parts.append("</section>")
    return "".join(parts)


# ------------------------------------------------------------ explanations


def _due(page: _Page, due, as_of) -> str:
    text = page.date(due)
    try:
        left = (dt.date.fromisoformat(str(due)) - dt.date.fromisoformat(str(as_of))).days
    except ValueError:
        return text
    w = page.w
    note = w["left"].format(n=left) if left > 0 else w["today"] if left == 0 else w["overdue"].format(n=-left)
    return f"{text}({note})" if page.lang == "ja" else f"{text} ({note})"


def _fact(value) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def _result_head(page: _Page, r: dict) -> str:
    status = r.get("status")
    label = _STATUS_LABEL[page.lang].get(status, str(status))
    subject = page.subject(r.get("subject"))
    subject = f' <span class="subj">{e(subject)}</span>' if subject else ""
    return (f'<span class="st-{e(status)}">{e(_MARK.get(status, "?"))} {e(label)}</span> '
            f'<strong>{e(page.text(r.get("title")) or r.get("rule"))}</strong>{subject} <code>{e(r.get("rule"))}</code>')


def _result(page: _Page, r: dict, as_of) -> str:
    w = page.w
    parts = [f'<li class="{e(r.get("status"))}"><p>{_result_head(page, r)}</p>',
             f'<p class="msg">{e(page.text(r.get("message")))}</p>']
    if r.get("fix"):
        parts.append(f'<p class="fix">→ {e(w["fix"])}: {e(page.text(r["fix"]))}</p>')
    if r.get("due"):
        parts.append(f'<p class="due">→ {e(w["due_on"])}: {e(_due(page, r["due"], as_of))}</p>')
    facts = r.get("facts") or {}
    source = r.get("source") or {}
    if facts or source:
        parts.append(f'<details class="facts"><summary>{e(w["facts"])}</summary>')
        if facts:
            parts.append("<dl>" + "".join(f"<dt><code>{e(k)}</code></dt><dd>{e(_fact(v))}</dd>"
                                          for k, v in facts.items()) + "</dl>")
        if source.get("text"):
            ref = f" ({e(source['ref'])})" if source.get("ref") else ""
            parts.append(f'<blockquote>{e(w["source"])}: {e(source["text"])}{ref}</blockquote>')
        parts.append("</details>")
    parts.append("</li>")
    return "".join(parts)


def _explanation(page: _Page, anchor: str, top: dict | None, case: dict | None) -> str:
    w = page.w
    case_id = (top or {}).get("case_id", (case or {}).get("case_id"))
    verdict = (case or {}).get("verdict") or (top or {}).get("verdict")
    parts = [f'<article class="case" id="{e(anchor)}"><h3><span class="cid">{e(case_id)}</span> ']
    if case is not None and case.get("format") == "rulebook.error/v1":
        parts.append(f'<span class="badge v-ineligible">{e(w["invalid"])}</span></h3>')
    else:
        parts.append(f"{page.verdict(verdict)}</h3>")
    meta = []
    if case and case.get("as_of"):
        meta.append((w["as_of"], e(page.date(case["as_of"]))))
    if top:
        for key, label in (("expert", w["expert"]), ("sme", w["sme"]), ("where", w["where"])):
            if top.get(key):
                meta.append((label, e(top[key])))
        for k in _MONEY_KEYS:
            if k in top:
                meta.append((_MONEY_LABEL[page.lang][k], e(page.yen(top[k]))))
    if case and isinstance(case.get("counts"), dict):
        labels = _STATUS_LABEL[page.lang]
        meta.append((w["results"], e(" / ".join(f"{labels[s]} {_int(case['counts'].get(s))}" for s in _STATUSES))))
    if meta:
        parts.append('<dl class="meta">' + "".join(f"<dt>{e(k)}</dt><dd>{v}</dd>" for k, v in meta) + "</dl>")

    if case is None:
        parts.append(f'<p class="none">{e(w["missing"])}</p>')
    elif case.get("format") == "rulebook.error/v1":
        rows = [f"<tr>{_td('<code>' + e(x.get('path') or '—') + '</code>')}{_td(e(x.get('message')))}"
                f"{_td(e(_fact(x.get('value'))))}</tr>" for x in case.get("errors") or []]
        parts.append(_table([(e(w["path"]), False), ("", False), (e(w["value"]), False)], rows))
    else:
        for warning in case.get("warnings") or []:
            parts.append(f'<p class="warning">{e(w["warning"])}: {e(page.text(warning))}</p>')
        results = [r for r in case.get("results") or [] if isinstance(r, dict)]
        todo = [r for r in results if r.get("status") == "fail"] + [r for r in results if r.get("status") == "pending"]
        rest = [r for r in results if r.get("status") not in ("fail", "pending")]
        parts.append(f"<h4>{e(w['todo'])}</h4>")
        if todo:
            parts.append('<ol class="results">' + "".join(_result(page, r, case.get("as_of")) for r in todo) + "</ol>")
        else:
            parts.append(f'<p class="none">{e(w["none_todo"])}</p>')
        if rest:
            items = "".join(f"<li>{_result_head(page, r)}: {e(page.text(r.get('message')))}</li>" for r in rest)
            parts.append(f'<details class="passes"><summary>{e(w["others"].format(n=len(rest)))}</summary>'
                         f"<ul>{items}</ul></details>")
    back = f"#row-{anchor}" if top is not None else "#top-cases"
    parts.append(f'<p class="back"><a href="{e(back)}">{e(w["back"])}</a></p></article>')
    return "".join(parts)


def _pair(tops: list[dict], cases: list[dict]) -> tuple[list, list]:
    """Each top case's verdict: the one at the same place when its id matches, else the first unused one
    with that id; and the verdicts left over."""
    free: dict = {}
    for i, case in enumerate(cases):
        free.setdefault(str(case.get("case_id")), []).append(i)
    taken: set = set()
    found = []
    for i, top in enumerate(tops):
        key = str(top.get("case_id"))
        pick = None
        if i < len(cases) and i not in taken and str(cases[i].get("case_id")) == key:
            pick = i
        else:
            pick = next((j for j in free.get(key, ()) if j not in taken), None)
        if pick is not None:
            taken.add(pick)
        found.append(None if pick is None else cases[pick])
    left = [case for i, case in enumerate(cases) if i not in taken]
    return found, left


# --------------------------------------------------------------------- page


def render_report(summary: dict, cases: list[dict], lang: str = "ja") -> str:
    """The audit's report as one self-contained HTML document (no network: inline CSS, inline SVG, no
    external scripts, fonts or images)."""
    if lang not in _WORDS:
        raise ValueError(f"unknown language `{lang}`: expected `ja` or `en`")
    page = _Page(summary, lang)
    w = page.w
    tops = [t for t in summary.get("top_cases") or [] if isinstance(t, dict)]
    cases = [c for c in cases or [] if isinstance(c, dict)]
    verdicts, leftover = _pair(tops, cases)
    top_anchors = [page.claim_anchor(t.get("case_id")) for t in tops]
    left_anchors = [page.claim_anchor(c.get("case_id")) for c in leftover]

    sections = [("totals", w["totals"]), ("rules", w["chart"]), ("top-cases", w["top"]),
                ("checks", w["checks"]), ("experts", w["experts"]), ("smes", w["smes"])]
    since = summary.get("since")
    if isinstance(since, dict):
        sections.append(("since", w["since"]))
    if tops or leftover:
        sections.append(("explanations", w["explanations"]))

    book = summary.get("rulebook") or {}
    title = page.text(summary.get("title")) or str(book.get("name") or "")
    body = [
        _header(page, summary),
        _nav(page, sections),
        "<main>",
        _totals(page, summary),
        _chart(page, summary),
        _top_cases(page, tops, top_anchors),
        _checks(page, summary),
        _people(page, summary.get("experts"), "experts", w["experts"], w["expert"]),
        _people(page, summary.get("smes"), "smes", w["smes"], w["sme"]),
    ]
    if isinstance(since, dict):
        body.append(_since(page, since))
    if tops or leftover:
        body.append(f'<section id="explanations"><h2>{e(w["explanations"])}</h2>')
        body.extend(_explanation(page, a, t, c) for a, t, c in zip(top_anchors, tops, verdicts))
        body.extend(_explanation(page, a, None, c) for a, c in zip(left_anchors, leftover))
        body.append("</section>")
    body.append("</main>")
    footer = " · ".join(e(x) for x in (book.get("name"), book.get("version"), book.get("digest")) if x)
    body.append(f"<footer><p>{e(w['report'])} · {footer}</p></footer>")

    return ("<!DOCTYPE html>\n"
            f'<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{e(w['report'])} — {e(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
            + "\n".join(body) + "\n</body>\n</html>\n")
