"""report: an audit's summary and explained verdicts → one self-contained HTML page.

`render_report(summary, cases, lang)` gives the `report.html` of `rulebook audit`:
a header, the totals, an inline SVG chart of failures by rule, the cases with the
most money at stake (each linked to its explanation further down), the
findings of the rules over the batch (one table of the same shape for each rule), the tables per expert and per SME, and what changed since
the previous audit. Inline CSS and SVG only: no script, no font, no image, no
address outside the page, so it opens offline and prints.

The page is the Jinja2 template `templates/report.html` with autoescaping on, so
every value is escaped wherever it lands (text or attribute) without a call;
its style is `templates/report.css`, inlined. This module only prepares the
values: words in the page's language (statuses, verdicts and amounts from
`vocabulary`), numbers formatted, the chart's geometry, the anchors that link
cases to their explanations. The output depends only on the inputs (no clock,
no set order), so the same audit gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import io
import json
import os
import stat
import sys
import tempfile
from pathlib import Path

import jinja2
import markupsafe

from . import vocabulary as v

__all__ = ["render_report", "TABLE_LIMIT"]

TABLE_LIMIT = 50  # rows of the expert and SME tables; the rest stay in summary.json
INPUTS_SHOWN = 20  # input files named in the header

_MONEY_KEYS = ("honorarium_due_jpy", "honorarium_at_stake_jpy", "claimed_jpy")

_WORDS = {
    "ja": {
        "report": "監査報告", "rulebook": "ルールブック", "version": "版", "digest": "ダイジェスト",
        "inputs": "入力", "cases": "事例数", "errors": "入力エラー", "as_of": "判定日",
        "contents": "目次", "totals": "集計", "by_verdict": "判定別の事例数", "verdict": "判定",
        "count": "件数", "share": "割合", "total": "合計", "money": "金額",
        "due": "支払われる謝金", "at_stake": "謝金の対象額(要件をすべて満たした場合)",
        "claimed": "請求額", "held_back": "支払われない謝金(対象額 − 支払額)",
        "due_short": "支払額", "at_stake_short": "対象額", "held_short": "不支給額",
        "chart": "要件別の不適合", "chart_count": "{fail}件", "chart_pending": "(未完了 {pending}件)",
        "no_failures": "不適合・未完了の要件はありません。",
        "other_rules": "ほかの{n}件の要件には不適合も未完了もありません。",
        "rule_table": "すべての要件の内訳", "rule": "要件", "stage": "段階",
        "top": "謝金の対象額が大きい事例", "top_none": "一覧にする事例はありません。",
        "top_note": "対象額の大きい順に{n}件。事例IDから説明へ移動できます。",
        "case": "事例", "failed": "不適合の要件", "expert": "IT専門家", "sme": "中小企業",
        "where": "入力位置",
        "checks": "事例をまたぐ確認",
        "findings_none": "該当するものはありません。", "no_batch_rules": "このルールブックには事例をまたぐ規則がありません。",
        "not_evaluated": "この規則はこのバッチについて評価できませんでした",
        "finding": "内容",
        "experts": "IT専門家別", "smes": "中小企業別", "name": "名前",
        "table_none": "ありません。",
        "table_note": "対象額の大きい順に上位{shown}件を表示しています。ほか{more}件は summary.json にあります。",
        "since": "前回の監査からの変化", "previous": "前回", "changed": "判定が変わった事例",
        "changed_none": "判定が変わった事例はありません。", "from": "前回", "to": "今回",
        "new_failures": "新たな不適合", "new_failures_none": "新たな不適合はありません。",
        "subject": "対象", "results": "要件の結果", "item": "項目", "amount": "金額",
        "money_moved": "金額の変化", "money_moved_none": "金額の変化はありません。",
        "explanations": "事例の説明", "todo": "対応が必要な要件", "none_todo": "対応が必要な要件はありません。",
        "others": "そのほかの要件({n}件)",
        "facts": "判断に使った値と根拠", "source": "根拠", "back": "↑ 一覧へ戻る",
        "missing": "この事例の説明は含まれていません。", "invalid": "入力エラー",
        "value": "値", "path": "項目", "case_word": "事例",
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
        "chart": "Failures by rule", "chart_count": "{fail}", "chart_pending": " (+{pending} pending)",
        "no_failures": "No rule failed and none is pending.",
        "other_rules": "The other {n} rules have no failures and nothing pending.",
        "rule_table": "Every rule in numbers", "rule": "Rule", "stage": "Stage",
        "top": "Cases with the most money at stake", "top_none": "No cases to list.",
        "top_note": "{n} cases, most money at stake first. Each case id links to its explanation.",
        "case": "Case", "failed": "Failed rules", "expert": "Expert", "sme": "SME",
        "where": "Where",
        "checks": "Cross-case checks",
        "findings_none": "Nothing found.", "no_batch_rules": "This rulebook has no rules across cases.",
        "not_evaluated": "This rule could not be evaluated over this batch",
        "finding": "Finding",
        "experts": "By expert", "smes": "By SME", "name": "Name",
        "table_none": "None.",
        "table_note": "The top {shown} by money at stake; {more} more are in summary.json.",
        "since": "Since the previous audit", "previous": "Previous", "changed": "Verdicts that changed",
        "changed_none": "No verdict changed.", "from": "Before", "to": "Now",
        "new_failures": "New failures", "new_failures_none": "No new failures.",
        "subject": "Subject", "results": "Results", "item": "Item", "amount": "Amount",
        "money_moved": "Money moved", "money_moved_none": "No money moved.",
        "explanations": "Case explanations", "todo": "Needs attention", "none_todo": "Nothing needs attention.",
        "others": "Other requirements ({n})",
        "facts": "Facts and source", "source": "Source", "back": "↑ Back to the list",
        "missing": "This case's explanation is not included.", "invalid": "Invalid input",
        "value": "value", "path": "Field", "case_word": "case",
        "more_inputs": "{n} more", "none": "none", "with_errors": " (and {n} invalid inputs)",
        "list_note": "The first {shown} are shown; all {total} are in {file}.",
    },
}


# The environment's options: they shape the code a template compiles to, so they are part of
# the key of a compiled template kept in a cache (`_CompiledPages`).
_OPTIONS = {"autoescape": True, "undefined": jinja2.StrictUndefined, "trim_blocks": True,
            "lstrip_blocks": True, "keep_trailing_newline": True}


class _CompiledPages(jinja2.BytecodeCache):
    """The page's template as jinja compiled it, kept in a folder (the plan cache's): an audit
    reads it back rather than compile the template again (≈ 0.1 s of CPU). A compiled template
    is used only when all of these hold, else it is compiled anew and written over:
    - its file's name is a digest of jinja's version, Python's, the environment's options and
      the template's name (`get_cache_key`), and jinja checks its own format's magic number
      and the digest of the template's text (`Bucket.load_bytecode`): another jinja, or a
      changed template, never reads it;
    - the file starts with the SHA-256 of the rest (a file cut short or damaged is not read);
    - the folder and the file belong to this user and no one else can write to them, as for
      the plan cache (the file holds code this process runs)."""

    def __init__(self, folder: Path):
        self.folder = folder

    def get_cache_key(self, name: str, filename: str | None = None) -> str:
        parts = (jinja2.__version__, sys.version, repr(sorted(_OPTIONS.items(), key=lambda kv: kv[0])), name)
        return hashlib.sha256("\0".join(map(str, parts)).encode()).hexdigest()[:32]

    def _path(self, bucket: jinja2.bccache.Bucket) -> Path:
        return self.folder / f"page-{bucket.key}.jinja"

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            if not _owned(os.stat(self.folder)):
                return
            fd = os.open(self._path(bucket), os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0))
        except OSError:  # none yet, a link, or not readable
            return
        with os.fdopen(fd, "rb") as fh:
            info = os.fstat(fh.fileno())
            if not stat.S_ISREG(info.st_mode) or not _owned(info):
                return
            data = fh.read()
        digest, payload = data[:32], data[32:]
        if len(digest) == 32 and hashlib.sha256(payload).digest() == digest:
            bucket.load_bytecode(io.BytesIO(payload))  # (jinja's checks: its magic, the text's digest)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        payload = bucket.bytecode_to_string()
        try:
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            if not _owned(os.stat(self.folder)):
                return
            fd, tmp = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(hashlib.sha256(payload).digest() + payload)
                os.replace(tmp, self._path(bucket))
            except BaseException:
                os.unlink(tmp)
                raise
        except OSError:  # a cache that cannot be written: the template was compiled all the same
            pass


def _owned(info: os.stat_result) -> bool:
    """True for a file or folder of this user that no one else can write to."""
    return info.st_uid == os.geteuid() and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


@functools.cache
def _environment(cache: str | None = None) -> jinja2.Environment:
    """The page's environment; `cache`: a folder where its compiled template is kept."""
    return jinja2.Environment(loader=jinja2.PackageLoader("rulebook.output", "templates"),
                              bytecode_cache=_CompiledPages(Path(cache)) if cache else None, **_OPTIONS)


@functools.cache
def _template(cache: str | None = None) -> jinja2.Template:
    return _environment(cache).get_template("report.html")


def ready(cache: str | os.PathLike | None = None) -> None:
    """The page's template compiled (or read from `cache`, a folder: `_CompiledPages`) and its
    style sheet read now (`render_report` would at its first call): an audit does it while the
    cases are judged."""
    _template(str(cache) if cache is not None else None)
    _css()


class _Page:
    """The values the template shows, in one language: its words, the formats of numbers,
    dates and texts, the rules' titles and the anchors of the cases."""

    def __init__(self, summary: dict, lang: str):
        self.lang = lang
        self.w = _WORDS[lang]
        self.status = v.STATUS[lang]
        self.verdict_word = v.VERDICT[lang]
        self.money = v.MONEY[lang]
        self.phrase = v.PHRASE[lang]
        self.mark = v.MARK
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
            return next((str(x) for x in value.values() if x), "")
        return str(value)

    def yen(self, value, signed: bool = False) -> str:
        number = _number(value, signed)
        return f"{number}円" if self.lang == "ja" else f"{number} yen"

    def date(self, value) -> str:
        try:
            day = dt.date.fromisoformat(str(value))
        except ValueError:
            return str(value)
        return f"{day.year}年{day.month}月{day.day}日" if self.lang == "ja" else day.isoformat()

    def due(self, due, as_of) -> str:
        text = self.date(due)
        try:
            left = (dt.date.fromisoformat(str(due)) - dt.date.fromisoformat(str(as_of))).days
        except ValueError:
            return text
        note = v.days_left(left, self.lang)
        return f"{text}({note})" if self.lang == "ja" else f"{text} ({note})"

    def number(self, value) -> str:
        return _number(value)

    def key(self, value) -> str:
        """A finding's key value: a day as a day, a number as a number, text as it is."""
        if isinstance(value, str) and len(value) == 10 and value[4:5] == "-" and value[7:8] == "-":
            return self.date(value)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return _number(value)
        return "" if value is None else str(value)

    def verdict(self, verdict) -> dict:
        """A verdict's badge: its words and its class (none for a verdict the vocabulary does not know)."""
        return {"label": self.verdict_word.get(verdict, str(verdict)),
                "cls": f" v-{verdict}" if verdict in v.VERDICTS else ""}

    def more(self, listed: int, count) -> str:
        """", N more" after a list of `listed` items out of `count` (nothing when it is whole)."""
        rest = _int(count) - listed
        return ("、" if self.lang == "ja" else ", ") + self.w["more_inputs"].format(n=f"{rest:,}") if rest > 0 else ""

    def list_note(self, shown: int, total, file: str) -> str | None:
        """The note under a list of the summary cut short: `file` holds every entry."""
        if _int(total) <= shown:
            return None
        return self.w["list_note"].format(shown=f"{shown:,}", total=f"{_int(total):,}", file=file)

    def rule(self, rule_id) -> str:
        return self.rule_titles.get(rule_id, str(rule_id))

    def subject(self, subject) -> str:
        subject = "" if subject is None else str(subject)
        return v.step(subject, self.lang) or ("" if subject == "case" else subject)

    def fact(self, value) -> str:
        if isinstance(value, str):
            return value
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)

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

    def anchor(self, case_id) -> str | None:
        """The anchor of a case's explanation, None when the page holds none."""
        return self.anchors.get(str(case_id))


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


def _dicts(items) -> list[dict]:
    return [x for x in items or [] if isinstance(x, dict)]


# ------------------------------------------------------------------ sections


def _totals(page: _Page, summary: dict) -> dict:
    verdicts = summary.get("verdicts") or {}
    judged = sum(_int(verdicts.get(x)) for x in v.VERDICTS)
    rows = []
    for verdict in list(v.VERDICTS) + [k for k in verdicts if k not in v.VERDICTS]:
        n = _int(verdicts.get(verdict))
        rows.append({"verdict": page.verdict(verdict), "count": _number(n),
                     "share": f"{100 * n / judged:.1f}%" if judged else "—"})
    money = summary.get("money") or {}
    due, stake, claimed = (_int(money.get(k)) for k in _MONEY_KEYS)
    w = page.w
    return {"rows": rows, "judged": _number(judged), "all": "100.0%" if judged else "—",
            "errors": _int(summary.get("errors")),
            "money": [(w["due"], page.yen(due)), (w["at_stake"], page.yen(stake)), (w["claimed"], page.yen(claimed)),
                      (w["held_back"], page.yen(stake - due))]}


def _chart(page: _Page, summary: dict) -> dict:
    """The failures by rule: the bars of the SVG chart (geometry computed here, drawn by the
    template), and the table of every rule."""
    rules = _dicts(summary.get("rules"))
    shown = sorted((r for r in rules if _int(r.get("fail")) or _int(r.get("pending"))),
                   key=lambda r: (-_int(r.get("fail")), -_int(r.get("pending"))))
    width, left, bar_max, row, top = 900, 4, 620, 40, 30
    biggest = max((_int(r.get("fail")) + _int(r.get("pending")) for r in shown), default=0) or 1
    w = page.w
    bars = []
    for i, r in enumerate(shown):
        fail, pending = _int(r.get("fail")), _int(r.get("pending"))
        title = page.text(r.get("title")) or str(r.get("rule"))
        label = f"{title} ({r.get('rule')})"
        if len(label) > 110:
            label = label[:109] + "…"
        wf, wp = bar_max * fail / biggest, bar_max * pending / biggest
        count = w["chart_count"].format(fail=f"{fail:,}")
        if pending:
            count += w["chart_pending"].format(pending=f"{pending:,}")
        bars.append({
            "tip": f"{title} ({r.get('rule')}): {page.status['fail']} {fail:,}, {page.status['pending']} {pending:,}",
            "label": label, "y": top + i * row, "wf": f"{wf:.1f}", "wp": f"{wp:.1f}",
            "pending_x": f"{left + wf:.1f}", "count_x": f"{left + wf + wp + 6:.1f}", "count": count,
        })
    table = [{"title": page.text(r.get("title")) or r.get("rule"), "rule": r.get("rule"), "stage": r.get("stage"),
              "counts": [_number(_int(r.get(s))) for s in v.STATUSES]} for r in rules]
    head = [(w["rule"], False), (w["stage"], False)] + [(page.status[s], True) for s in v.STATUSES]
    return {"bars": bars, "width": width, "left": left, "height": top + row * len(shown) + 4,
            "rest": len(rules) - len(shown), "table": table, "head": head}


def _people(page: _Page, entries) -> dict:
    ranked = sorted(_dicts(entries), key=lambda x: -_int(x.get("honorarium_at_stake_jpy")))
    shown = ranked[:TABLE_LIMIT]
    rows = [{"name": x.get("name"), "cases": _number(x.get("cases")), "ineligible": _number(x.get("ineligible")),
             "money": [page.yen(x.get(k)) for k in _MONEY_KEYS],
             "held": page.yen(_int(x.get("honorarium_at_stake_jpy")) - _int(x.get("honorarium_due_jpy")))}
            for x in shown]
    return {"rows": rows, "more": f"{len(ranked) - len(shown):,}" if len(ranked) > len(shown) else None,
            "shown": len(shown)}


def _findings(page: _Page, rules) -> list[dict]:
    """The findings of each batch rule: a table of the same shape for every rule — its keys, its
    cases, the message (and fix) in the page's language."""
    out = []
    for i, rule in enumerate(_dicts(rules)):
        keys = [str(k) for k in rule.get("keys") or []]
        entries = []
        for entry in _dicts(rule.get("entries")):
            values = entry.get("key") if isinstance(entry.get("key"), dict) else {}
            entries.append({"key": [page.key(values.get(k)) for k in keys],
                            "cases": [str(c) for c in entry.get("cases") or []], "case_count": entry.get("case_count"),
                            "message": page.text(entry.get("message")), "fix": page.text(entry.get("fix"))})
        head = [(k, False) for k in keys] + [(page.w["case"], False), (page.w["finding"], False)]
        out.append({"rule": rule.get("rule"), "title": page.text(rule.get("title")) or str(rule.get("rule")),
                    "anchor": f"finding-{i + 1}", "head": head, "entries": entries, "total": rule.get("entries_total"),
                    "error": page.text(rule.get("error"))})
    return out


def _since(page: _Page, since) -> dict | None:
    if not isinstance(since, dict):
        return None
    moved = since.get("money_moved") or {}
    keys = [k for k in _MONEY_KEYS if k in moved] + [k for k in moved if k not in _MONEY_KEYS]
    return {"previous": since.get("previous"), "changed": _dicts(since.get("changed")),
            "changed_total": since.get("changed_total"), "new_failures_total": since.get("new_failures_total"),
            "new_failures": _dicts(since.get("new_failures")),
            "money_moved": [(page.money.get(k, k), page.yen(moved[k], signed=True)) for k in keys]}


def _explanation(page: _Page, anchor: str, top: dict | None, case: dict | None) -> dict:
    """One case's explanation: its verdict or input errors, its results (what needs doing first)."""
    w = page.w
    invalid = case is not None and case.get("format") == "rulebook.error/v1"
    meta = []
    if case and case.get("as_of"):
        meta.append((w["as_of"], page.date(case["as_of"])))
    if top:
        for key, label in (("expert", w["expert"]), ("sme", w["sme"]), ("where", w["where"])):
            if top.get(key):
                meta.append((label, top[key]))
        for k in _MONEY_KEYS:
            if k in top:
                meta.append((page.money[k], page.yen(top[k])))
    if case and isinstance(case.get("counts"), dict):
        meta.append((w["results"], " / ".join(f"{page.status[s]} {_int(case['counts'].get(s))}" for s in v.STATUSES)))
    results = _dicts((case or {}).get("results")) if not invalid else []
    return {
        "anchor": anchor, "case_id": (top or {}).get("case_id", (case or {}).get("case_id")),
        "verdict": page.verdict((case or {}).get("verdict") or (top or {}).get("verdict")),
        "case": case, "invalid": invalid, "meta": meta,
        "errors": _dicts(case.get("errors")) if invalid else [],
        "warnings": (case or {}).get("warnings") or [] if not invalid else [],
        "todo": [r for r in results if r.get("status") == "fail"] + [r for r in results if r.get("status") == "pending"],
        "rest": [r for r in results if r.get("status") not in ("fail", "pending")],
        "as_of": (case or {}).get("as_of"),
        "back": f"#row-{anchor}" if top is not None else "#top-cases",
    }


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


def render_report(summary: dict, cases: list[dict], lang: str = "ja", cache: str | os.PathLike | None = None) -> str:
    """The audit's report as one self-contained HTML document (no network: inline CSS, inline SVG, no
    external scripts, fonts or images). `cache`: a folder where the compiled template is kept
    (`ready`)."""
    if lang not in _WORDS:
        raise ValueError(f"unknown language `{lang}`: expected `ja` or `en`")
    page = _Page(summary, lang)
    w = page.w
    tops = _dicts(summary.get("top_cases"))
    cases = _dicts(cases)
    verdicts, leftover = _pair(tops, cases)
    top_anchors = [page.claim_anchor(t.get("case_id")) for t in tops]
    left_anchors = [page.claim_anchor(c.get("case_id")) for c in leftover]
    explanations = ([_explanation(page, a, t, c) for a, t, c in zip(top_anchors, tops, verdicts)]
                    + [_explanation(page, a, None, c) for a, c in zip(left_anchors, leftover)])

    since = _since(page, summary.get("since"))
    sections = [("totals", w["totals"]), ("rules", w["chart"]), ("top-cases", w["top"]),
                ("checks", w["checks"]), ("experts", w["experts"]), ("smes", w["smes"])]
    if since is not None:
        sections.append(("since", w["since"]))
    if explanations:
        sections.append(("explanations", w["explanations"]))

    book = summary.get("rulebook") or {}
    digest = str(book.get("digest") or "")
    inputs = [str(x) for x in summary.get("inputs") or []]
    return _template(str(cache) if cache is not None else None).render(
        page=page, w=w, lang=lang, sections=sections,
        title=page.text(summary.get("title")) or str(book.get("name") or ""),
        book=book, digest=digest, short_digest=digest if len(digest) <= 19 else digest[:19] + "…",
        inputs=inputs[:INPUTS_SHOWN],
        more_inputs=f"{len(inputs) - INPUTS_SHOWN:,}" if len(inputs) > INPUTS_SHOWN else None,
        cases=_number(summary.get("cases", 0)), errors=_number(summary.get("errors", 0)),
        as_of=summary.get("as_of"),
        totals=_totals(page, summary), chart=_chart(page, summary),
        tops=[{"top": t, "anchor": a, "failed": [page.rule(r) for r in t.get("failed") or []],
               "money": [page.yen(t.get(k)) for k in _MONEY_KEYS]} for t, a in zip(tops, top_anchors)],
        findings=_findings(page, summary.get("findings")),
        experts=_people(page, summary.get("experts")), smes=_people(page, summary.get("smes")),
        since=since, explanations=explanations,
        footer=[x for x in (book.get("name"), book.get("version"), book.get("digest")) if x],
        css=_css(),
    )


@functools.cache
def _css() -> markupsafe.Markup:
    """The page's style sheet, our own file, put in the page as it is."""
    env = _environment()
    return markupsafe.Markup(env.loader.get_source(env, "report.css")[0])
