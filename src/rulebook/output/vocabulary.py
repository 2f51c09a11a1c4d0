"""vocabulary: the one table of words shown for the engine's codes, in Japanese and English.

The statuses of a requirement, the verdicts of a case, the amounts of an
audit's summary, and the phrases of a due date are shown by
the text of `rulebook check`, the audit's report.html and spreadsheets, the
service and the self-service page alike: all of them take the words from here
(the page gets them from the service, see `table`). The stages of the
procedure, the labels of a field's values and the titles of the payout's
amounts are the rulebook's own (its header, `rules/schema.rules` and
`rules/payout.rules`); `table` puts them beside these words.

The Japanese words were chosen so that no word means two things:

- a *status* says how one requirement stands: 適合 (pass), 不適合 (fail),
  未完了 (pending: it can still be met, usually by a day), 該当なし (not
  applicable: the requirement does not concern this case or step — the usual
  word of a checklist, and not 対象外, which reads as the honorarium's verdict);
- a *verdict* says whether the case earns the honorarium, so its words name the
  honorarium: 謝金対象 (eligible), 謝金対象外 (ineligible), and 未確定
  (incomplete: not yet settled, because some requirement is still pending —
  not 未完了, which is the status of that requirement).
"""

from __future__ import annotations

LANGUAGES = ("ja", "en")

STATUSES = ("fail", "pending", "pass", "not_applicable")  # in the order they are shown
VERDICTS = ("eligible", "incomplete", "ineligible")

STATUS = {
    "ja": {"fail": "不適合", "pending": "未完了", "pass": "適合", "not_applicable": "該当なし"},
    "en": {"fail": "failed", "pending": "pending", "pass": "passed", "not_applicable": "not applicable"},
}
MARK = {"fail": "✗", "pending": "…", "pass": "✓", "not_applicable": "–"}

VERDICT = {
    "ja": {"eligible": "謝金対象", "incomplete": "未確定", "ineligible": "謝金対象外"},
    "en": {"eligible": "eligible", "incomplete": "incomplete", "ineligible": "ineligible"},
}
VERDICT_WHY = {
    "ja": {"eligible": "すべての要件を満たしています", "incomplete": "まだ決まらない要件があります",
           "ineligible": "満たしていない要件があります"},
    "en": {"eligible": "every requirement is met", "incomplete": "some requirements are still open",
           "ineligible": "some requirements are not met"},
}

# The money of an audit (summary.json, report.html, the spreadsheets).
MONEY = {
    "ja": {"honorarium_due_jpy": "支払われる謝金", "honorarium_at_stake_jpy": "謝金の対象額", "claimed_jpy": "請求額"},
    "en": {"honorarium_due_jpy": "Honorarium due", "honorarium_at_stake_jpy": "Honorarium at stake",
           "claimed_jpy": "Claimed"},
}

# Phrases that several writers share: a step, and how far a due date is.
PHRASE = {
    "ja": {"step": "ステップ{n}", "left": "あと{n}日", "left_one": "あと1日", "today": "今日まで",
           "overdue": "{n}日超過", "overdue_one": "1日超過", "fix": "対応", "due": "期限", "warning": "注意"},
    "en": {"step": "step {n}", "left": "{n} days left", "left_one": "1 day left", "today": "due today",
           "overdue": "{n} days overdue", "overdue_one": "1 day overdue", "fix": "fix", "due": "due",
           "warning": "warning"},
}

# The columns of the audit's spreadsheets.
CASES_COLUMNS = {
    "ja": ["事例ID", "判定", "不適合の要件", "支払われる謝金(円)", "謝金の対象額(円)", "請求額(円)", "IT専門家",
           "中小企業", "入力元"],
    "en": ["case id", "verdict", "failed requirements", "honorarium due (yen)", "honorarium at stake (yen)",
           "claimed (yen)", "IT expert", "SME", "source"],
}
PEOPLE_COLUMNS = {
    "ja": ["名前", "事例数", "謝金対象外の事例数", "支払われる謝金(円)", "謝金の対象額(円)", "請求額(円)"],
    "en": ["name", "cases", "ineligible cases", "honorarium due (yen)", "honorarium at stake (yen)", "claimed (yen)"],
}
HOURS_COLUMNS = {  # {n}: how many case ids the last column lists at most
    "ja": ["IT専門家", "日付", "1日の作業時間", "上限(時間)", "事例数", "事例ID(最初の{n}件)"],
    "en": ["IT expert", "day", "hours that day", "bound (hours)", "cases", "case ids (first {n})"],
}
DUPLICATES_COLUMNS = {"ja": ["事例ID", "回数", "入力元"], "en": ["case id", "times", "source"]}
FINDINGS_COLUMNS = {  # the findings of the batch rules; {n}: how many case ids are listed at most
    "ja": ["規則", "キー", "事例数", "事例ID(最初の{n}件)", "数値", "内容", "対応"],
    "en": ["rule", "key", "cases", "case ids (first {n})", "figures", "message", "fix"],
}
CHANGES_COLUMNS = {
    "ja": ["事例ID", "前回の判定", "今回の判定", "新たに不適合となった要件"],
    "en": ["case id", "verdict before", "verdict now", "new failures"],
}


def days_left(left: int, lang: str) -> str:
    """How far a due date is: `あと3日`, `due today`, `1 day overdue`."""
    words = PHRASE[lang]
    if left == 0:
        return words["today"]
    n = abs(left)
    key = "left" if left > 0 else "overdue"
    return words[f"{key}_one"] if n == 1 else words[key].format(n=n)


def step(subject: str, lang: str) -> str:
    """The words for a result's subject: `ステップ2` for `step:2`, nothing for the case."""
    if subject.startswith("step:"):
        return PHRASE[lang]["step"].format(n=subject[5:])
    return ""


def amount_words(amounts: dict, lang: str) -> dict:
    """{amount: its title in `lang`} from the rulebook's {amount: {lang: title}}."""
    return {name: titles.get(lang, name) for name, titles in amounts.items()}


def table(stages, values: dict, amounts: dict | None = None) -> dict:
    """Every word of the vocabulary as JSON-ready data, for a program (the self-service page):
    {lang: {status, verdict, verdict_why, amount, money, phrase, stage, value}}, and `stages`,
    the procedure's stages in order. `stages` is the rulebook's [(name, {lang: title})];
    `values` maps a field's path (without list indexes) to {value: {lang: label}}; `amounts`
    each amount of the payout to {lang: title} (the case's amounts over the steps')."""
    out: dict = {"languages": list(LANGUAGES), "statuses": list(STATUSES), "verdicts": list(VERDICTS),
                 "marks": dict(MARK), "stages": [name for name, _ in stages]}
    for lang in LANGUAGES:
        out[lang] = {
            "status": STATUS[lang], "verdict": VERDICT[lang], "verdict_why": VERDICT_WHY[lang],
            "amount": amount_words(amounts or {}, lang), "money": MONEY[lang], "phrase": PHRASE[lang],
            "stage": {name: titles.get(lang, name) for name, titles in stages},
            "value": {path: {value: labels.get(lang, value) for value, labels in known.items()}
                      for path, known in values.items()},
        }
    return out
