"""report: the audit's summary and explained verdicts → one self-contained HTML page."""

from __future__ import annotations

import copy
import re
from html.parser import HTMLParser

import pytest
import yaml
from markupsafe import escape as _escape

from rulebook.output.report import TABLE_LIMIT, render_report

from ..conftest import EXAMPLES

HOSTILE_NAME = "<script>alert(1)</script>"
HOSTILE_ID = '"><img src=x onerror=alert(2)>'
MONEY = ("honorarium_due_jpy", "honorarium_at_stake_jpy", "claimed_jpy")


def escaped(text: str) -> str:
    """A text as the page escapes it (Jinja2's autoescape, markupsafe)."""
    return str(_escape(text))


def _snapshot(name: str) -> dict:
    return yaml.safe_load((EXAMPLES / f"{name}.yaml").read_text(encoding="utf-8"))


def _audit(book, snapshots: list[dict], where: str = "cases.jsonl") -> tuple[dict, list[dict]]:
    """What `rulebook audit` gives the renderer, built by hand from real verdicts."""
    verdicts = [book.judge(s) for s in snapshots]
    rules: dict = {}
    counts = {"eligible": 0, "incomplete": 0, "ineligible": 0}
    money = dict.fromkeys(MONEY, 0)
    people: dict = {"expert": {}, "sme": {}}
    tops = []
    for line, (snapshot, verdict) in enumerate(zip(snapshots, verdicts), 1):
        counts[verdict["verdict"]] += 1
        for r in verdict["results"]:
            entry = rules.setdefault(r["rule"], {"rule": r["rule"], "title": r["title"], "stage": r["stage"],
                                                 "pass": 0, "fail": 0, "pending": 0, "not_applicable": 0})
            entry[r["status"]] += 1
        amounts = {"honorarium_due_jpy": verdict["payout"]["honorarium_jpy"],
                   "honorarium_at_stake_jpy": verdict["payout"]["honorarium_at_stake_jpy"],
                   "claimed_jpy": (snapshot.get("claim") or {}).get("honorarium_jpy") or 0}
        for k in MONEY:
            money[k] += amounts[k]
        for kind in people:
            name = snapshot[kind]["name"]
            row = people[kind].setdefault(name, {"name": name, "cases": 0, "ineligible": 0} | dict.fromkeys(MONEY, 0))
            row["cases"] += 1
            row["ineligible"] += verdict["verdict"] == "ineligible"
            for k in MONEY:
                row[k] += amounts[k]
        tops.append({"case_id": verdict["case_id"], "verdict": verdict["verdict"],
                     "failed": sorted({r["rule"] for r in verdict["results"] if r["status"] == "fail"}),
                     **amounts, "expert": snapshot["expert"]["name"], "sme": snapshot["sme"]["name"],
                     "where": f"{where}:{line}"})
    order = sorted(range(len(tops)), key=lambda i: -tops[i]["honorarium_at_stake_jpy"])
    summary = {
        "format": "rulebook.audit-summary/v1",
        "rulebook": verdicts[0]["rulebook"],
        "title": {"ja": "中小企業デジタル化応援隊事業(ランサーズ経由)", "en": "SME Digitalization Support Corps (via Lancers)"},
        "inputs": [where],
        "as_of": None,
        "cases": len(verdicts), "errors": 0,
        "verdicts": counts,
        "rules": list(rules.values()),
        "money": money,
        "experts": sorted(people["expert"].values(), key=lambda x: -x["honorarium_at_stake_jpy"]),
        "smes": sorted(people["sme"].values(), key=lambda x: -x["honorarium_at_stake_jpy"]),
        "duplicates": [],
        "implausible_hours": [],
        "top_cases": [tops[i] for i in order],
        "since": None,
    }
    return summary, [verdicts[i] for i in order]


def _findings(book, hostile: dict) -> list[dict]:
    """The batch rules' findings of a few cases: the hostile case id twice, and 30.5 hours on
    2021-02-01 for the expert with the hostile name, in the failing case and the hostile one."""
    long_day = {"started_on": "2021-02-01", "completion_reported_on": "2021-02-01"}
    failing, again = _snapshot("failing-case"), copy.deepcopy(hostile)
    for case, hours in ((failing, 20.5), (again, 10)):
        case["expert"].pop("lancers_user", None)
        case["expert"]["name"] = HOSTILE_NAME
        case["steps"][0] |= long_day | {"hours": hours}
    judged = []
    for snapshot in (failing, hostile, again):
        verdict, case = book.judge_case(snapshot)
        judged.append((case, verdict["payout"], case.as_of))
    return book.find(judged)


@pytest.fixture(scope="module")
def audit(book):
    hostile = _snapshot("pending-case")
    hostile["case_id"] = HOSTILE_ID
    hostile["expert"]["name"] = HOSTILE_NAME
    summary, cases = _audit(book, [_snapshot("seed-case"), _snapshot("failing-case"),
                                   _snapshot("pending-case"), hostile])
    summary["as_of"] = "2021-04-20"
    summary["findings"] = _findings(book, hostile)
    summary["since"] = {"previous": "out-2021-03",
                        "changed": [{"case_id": "C-2021-0042", "from": "eligible", "to": "ineligible"}],
                        "new_failures": [{"case_id": "C-2021-0042", "rule": "claim.honorarium", "subject": "case"}],
                        "money_moved": {"honorarium_due_jpy": -140000, "honorarium_at_stake_jpy": 0,
                                        "claimed_jpy": 35000}}
    return summary, cases


@pytest.fixture(scope="module")
def ja(audit):
    return render_report(*audit)


@pytest.fixture(scope="module")
def en(audit):
    return render_report(*audit, lang="en")


class _Tree(HTMLParser):
    """Checks that every opened tag is closed in order, and collects attributes and ids."""

    VOID = {"meta", "br", "hr", "img", "input", "link", "wbr", "col", "area", "base", "source"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.problems, self.attrs, self.tags, self.ids = [], [], [], [], []
        self.doctype = 0

    def handle_decl(self, decl):
        self.doctype += decl.lower() == "doctype html"

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.extend((tag, k, v) for k, v in attrs)
        self.ids.extend(v for k, v in attrs if k == "id")
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.extend((tag, k, v) for k, v in attrs)
        self.ids.extend(v for k, v in attrs if k == "id")

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()


def _tree(page: str) -> _Tree:
    tree = _Tree()
    tree.feed(page)
    tree.close()
    return tree


def _yen(value: int, lang: str) -> str:
    return f"{value:,}円" if lang == "ja" else f"{value:,} yen"


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_it_is_one_well_formed_html_document(audit, lang):
    page = render_report(*audit, lang=lang)
    assert page.startswith("<!DOCTYPE html>\n") and page.endswith("</html>\n")
    tree = _tree(page)
    assert tree.doctype == 1
    assert tree.problems == [] and tree.stack == []
    assert tree.tags.count("html") == tree.tags.count("head") == tree.tags.count("body") == 1
    assert f'<html lang="{lang}">' in page
    assert len(tree.ids) == len(set(tree.ids)), "ids are unique"


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_it_is_self_contained(audit, lang):
    page = render_report(*audit, lang=lang)
    tree = _tree(page)
    refs = [(tag, v) for tag, k, v in tree.attrs if k in ("src", "href", "xlink:href", "action", "srcset")]
    assert refs, "the page links to its own sections"
    for tag, ref in refs:
        assert not re.match(r"\s*(https?:|//|[a-z]+:)", ref, re.I), (tag, ref)
        assert ref.startswith("#"), (tag, ref)
    assert not {"script", "link", "img", "iframe", "object", "embed"} & set(tree.tags)
    assert "url(" not in page and "@import" not in page
    ids = set(tree.ids)
    for tag, ref in refs:
        assert ref[1:] in ids, f"{ref} points nowhere"


def test_totals_are_formatted(audit, ja, en):
    summary, _ = audit
    money = summary["money"]
    due, stake, claimed = (money[k] for k in MONEY)
    assert stake > due  # the examples hold some money back
    for page, lang in ((ja, "ja"), (en, "en")):
        for value in (due, stake, claimed, stake - due):
            assert _yen(value, lang) in page
    assert "SEED-EXAMPLE" in ja and "中小企業デジタル化応援隊事業(ランサーズ経由)" in ja
    assert "SME Digitalization Support Corps (via Lancers)" in en
    assert summary["rulebook"]["version"] in ja
    assert summary["rulebook"]["digest"][:19] in ja
    assert "2021年4月20日" in ja and "2021-04-20" in en


def test_failures_by_rule_are_an_inline_svg_chart(audit, ja, en):
    summary, _ = audit
    failing = [r for r in summary["rules"] if r["fail"]]
    assert failing
    for page, lang in ((ja, "ja"), (en, "en")):
        svg = page[page.index("<svg"):page.index("</svg>")]
        for rule in failing:
            assert escaped(rule["title"][lang]) in svg
        # sorted by failures, most first, each with its count
        in_chart = sorted(failing, key=lambda r: svg.index(f"({r['rule']})"))
        fails = [r["fail"] for r in in_chart]
        assert fails == sorted(fails, reverse=True)
        counts = re.findall(r'<text class="count"[^>]*>(\d+)', svg)
        assert [int(c) for c in counts[:len(fails)]] == fails
    assert page.count("<svg") == 1


def test_top_cases_link_to_their_explanations(audit, ja, en):
    summary, cases = audit
    tree = _tree(ja)
    ids = set(tree.ids)
    for top, verdict in zip(summary["top_cases"], cases):
        assert escaped(top["case_id"]) in ja
        for r in verdict["results"]:
            if r["status"] in ("fail", "pending"):
                assert escaped(r["message"]["ja"]) in ja
                assert escaped(r["message"]["en"]) in en
                if r["fix"]:
                    assert escaped(r["fix"]["ja"]) in ja
                    assert escaped(r["fix"]["en"]) in en
    assert 'href="#case-C-2021-0042"' in ja and "case-C-2021-0042" in ids
    assert 'id="row-case-C-2021-0042"' in ja  # and back from the explanation
    assert "2021年2月18日(あと8日)" in ja and "2021-02-18 (8 days left)" in en  # the pending report's due day
    # passes are folded
    assert '<details class="passes">' in ja


def test_labels_follow_the_language(ja, en):
    for word in ("集計", "要件別の不適合", "事例をまたぐ確認", "IT専門家別", "中小企業別", "前回の監査からの変化",
                 "対応が必要な要件", "謝金の対象", "支払われる謝金"):
        assert word in ja and word not in en
    for word in ("Totals", "Failures by rule", "Cross-case checks", "By expert", "By SME",
                 "Since the previous audit", "Needs attention", "Honorarium due", "Held back"):
        assert word in en and word not in ja
    assert "ステップ1" in ja and "step 1" in en


def test_data_is_escaped_everywhere(audit, ja, en):
    for page in (ja, en):
        assert "<script" not in page.lower()
        assert "<img" not in page.lower()
        assert escaped(HOSTILE_NAME) in page
        assert escaped(HOSTILE_ID) in page
        assert "onerror=alert(2)>" not in page
        tree = _tree(page)
        assert tree.problems == []
        assert not any(k.startswith("on") for _, k, _ in tree.attrs)  # the id never breaks out of an attribute
    summary, cases = audit
    evil = copy.deepcopy(summary)
    evil["rulebook"]["name"] = "</title><script>x()</script>"
    evil["inputs"] = ["<b>a.jsonl</b>"]
    evil["rules"][0]["title"] = {"ja": "<svg onload=x()>", "en": "<svg onload=x()>"}
    evil["rules"][0]["fail"] = 99
    evil["title"] = None
    page = render_report(evil, cases)
    assert "<script" not in page and "<b>" not in page and "<svg onload" not in page
    assert _tree(page).problems == []


def test_output_is_deterministic(audit):
    summary, cases = audit
    first = render_report(summary, cases)
    assert render_report(copy.deepcopy(summary), copy.deepcopy(cases)) == first
    assert render_report(summary, cases, "en") == render_report(summary, cases, "en")
    assert summary == audit[0]  # the inputs are not changed


def test_empty_lists_say_so(audit):
    summary, _ = audit
    empty = copy.deepcopy(summary)
    for key in ("experts", "smes", "top_cases"):
        empty[key] = []
    for rule in empty["findings"]:
        rule["entries"], rule["entries_total"] = [], 0
    empty["since"] = {"previous": "out-2021-03", "changed": [], "new_failures": [], "money_moved": {}}
    for r in empty["rules"]:
        r["fail"] = r["pending"] = 0
    ja, en = render_report(empty, []), render_report(empty, [], "en")
    assert ja.count("該当するものはありません。") == en.count("Nothing found.") == len(empty["findings"]) == 3
    for text in ("一覧にする事例はありません。",
                 "判定が変わった事例はありません。", "新たな不適合はありません。", "不適合・未完了の要件はありません。"):
        assert text in ja
    for text in ("No cases to list.", "No verdict changed.", "No new failures.", "No rule failed"):
        assert text in en
    assert "<svg" not in ja
    assert _tree(ja).problems == [] and _tree(en).problems == []
    # no since at all: no section
    empty["since"] = None
    assert 'id="since"' not in render_report(empty, [])
    # the bare minimum still renders
    assert "<!DOCTYPE html>" in render_report({}, [])


def test_cross_case_checks_and_since_are_shown(ja, en):
    assert "30.5時間" in ja and "24時間" in ja and "30.5 hours" in en
    assert "out-2021-03" in ja
    assert "−140,000円" in ja and "+35,000円" in ja and "−140,000 yen" in en
    # case ids in the checks link to the explanation when the case is in the report
    assert ja.count('href="#case-C-2021-0042"') >= 3


def test_people_tables_show_the_top_by_money_with_a_note(audit):
    summary, cases = audit
    many = copy.deepcopy(summary)
    many["experts"] = [{"name": f"専門家{i:03d}", "cases": 1, "ineligible": 0, "honorarium_due_jpy": 0,
                        "honorarium_at_stake_jpy": 1000 * i, "claimed_jpy": 0} for i in range(TABLE_LIMIT + 12)]
    page = render_report(many, cases)
    section = page[page.index('id="experts"'):page.index('id="smes"')]
    assert section.count("<tr>") == TABLE_LIMIT + 1  # with the header
    assert f"専門家{TABLE_LIMIT + 11:03d}" in section and "専門家011" not in section
    assert "ほか12件は summary.json にあります" in section
    assert "12 more are in summary.json" in render_report(many, cases, "en")


def test_cases_are_paired_by_id_and_missing_ones_said(audit):
    summary, cases = audit
    page = render_report(summary, list(reversed(cases)))
    assert page == render_report(summary, cases)
    page = render_report(summary, cases[1:])
    assert page.count("この事例の説明は含まれていません。") == 1


def test_a_large_audit_stays_quick_and_linked(audit):
    summary, cases = audit
    big = copy.deepcopy(summary)
    big["top_cases"], many = [], []
    for i in range(500):
        top, case = copy.deepcopy(summary["top_cases"][i % 4]), copy.deepcopy(cases[i % 4])
        top["case_id"] = case["case_id"] = f"C-{i:04d}"
        big["top_cases"].append(top)
        many.append(case)
    page = render_report(big, many)
    assert page.count('<article class="case"') == 500
    assert 'href="#case-C-0499"' in page and 'id="case-C-0499"' in page
    assert len(page.encode()) < 12_000_000


def test_an_invalid_input_among_the_cases_shows_its_errors(audit, book):
    summary, cases = audit
    bad = _snapshot("seed-case")
    bad["case_id"] = "BAD-<1>"
    bad["steps"][0]["hours"] = "<many>"
    error = book.judge(bad)
    assert error["format"] == "rulebook.error/v1"
    odd = copy.deepcopy(summary)
    odd["errors"] = 1
    odd["top_cases"].append({"case_id": "BAD-<1>", "verdict": "ineligible", "failed": [], "honorarium_due_jpy": 0,
                             "honorarium_at_stake_jpy": 0, "claimed_jpy": 0, "expert": "", "sme": "", "where": "x:1"})
    page = render_report(odd, cases + [error])
    assert "steps[0].hours" in page and "&lt;many&gt;" in page and "BAD-&lt;1&gt;" in page
    assert _tree(page).problems == []


def test_an_unknown_language_is_refused(audit):
    with pytest.raises(ValueError, match="`fr`"):
        render_report(*audit, lang="fr")


def test_statuses_and_verdicts_have_distinct_words(ja, en):
    """対象外 once meant both the ineligible verdict and the not-applicable status: the words now
    come from one vocabulary, where no word is both."""
    from rulebook.output import vocabulary

    assert re.findall(r"(?<!謝金)対象外", ja) == []
    for page, lang in ((ja, "ja"), (en, "en")):
        assert f"{vocabulary.MARK['not_applicable']} {vocabulary.STATUS[lang]['not_applicable']}" in page
        assert f'<span class="badge v-ineligible">{vocabulary.VERDICT[lang]["ineligible"]}</span>' in page
        assert f'<span class="badge v-incomplete">{vocabulary.VERDICT[lang]["incomplete"]}</span>' in page
    assert set(vocabulary.STATUS["ja"].values()).isdisjoint(vocabulary.VERDICT["ja"].values())
    assert set(vocabulary.STATUS["en"].values()).isdisjoint(vocabulary.VERDICT["en"].values())


def test_the_style_is_its_own_file_inlined(ja):
    from importlib import resources

    css = resources.files("rulebook.output").joinpath("templates", "report.css").read_text(encoding="utf-8")
    assert f"<style>{css}</style>" in ja
    assert "url(" not in css and "@import" not in css  # nothing fetched


def test_autoescape_covers_every_field_of_the_summary(audit):
    """Escaping is the template's default: a hostile text in any string of the summary or the
    verdicts never becomes markup."""
    summary, cases = audit
    evil = "<i onclick=x()>&"

    def poison(value):
        if isinstance(value, str):
            return evil + value
        if isinstance(value, dict):
            return {k: poison(x) for k, x in value.items()}
        if isinstance(value, list):
            return [poison(x) for x in value]
        return value

    for lang in ("ja", "en"):
        page = render_report(poison(summary), poison(cases), lang)
        assert "<i " not in page and _tree(page).problems == []
        assert escaped(evil) in page


# ------------------------------------------------- the compiled template kept in a cache

def _parses(monkeypatch) -> list[str]:
    """The names of the templates jinja parses (compiles) from now on."""
    import jinja2

    parsed: list[str] = []
    parse = jinja2.Environment._parse

    def spy(self, source, name, filename):
        parsed.append(name)
        return parse(self, source, name, filename)

    monkeypatch.setattr(jinja2.Environment, "_parse", spy)
    return parsed


def _fresh_page_caches() -> None:
    from rulebook.output import report

    report._template.cache_clear()
    report._environment.cache_clear()


def test_the_compiled_page_is_read_back_from_the_cache_and_gives_the_same_page(audit, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    plain, plain_en = render_report(*audit), render_report(*audit, lang="en")
    _fresh_page_caches()
    parsed = _parses(monkeypatch)
    assert render_report(*audit, cache=cache) == plain
    assert parsed == ["report.html"]
    [kept] = cache.glob("page-*.jinja")
    assert kept.stat().st_mode & 0o077 == 0
    _fresh_page_caches()  # as a new audit's process
    assert render_report(*audit, cache=cache) == plain
    assert render_report(*audit, lang="en", cache=cache) == plain_en
    assert parsed == ["report.html"]  # not compiled again


def _page_env(tmp_path, text: str):
    import jinja2

    from rulebook.output.report import _OPTIONS, _CompiledPages

    (tmp_path / "templates").mkdir(exist_ok=True)
    (tmp_path / "templates" / "page.html").write_text(text, encoding="utf-8")
    return jinja2.Environment(loader=jinja2.FileSystemLoader(tmp_path / "templates"),
                              bytecode_cache=_CompiledPages(tmp_path / "cache"), **_OPTIONS)


def test_a_changed_template_is_compiled_again_not_read_from_the_cache(tmp_path, monkeypatch):
    parsed = _parses(monkeypatch)
    assert _page_env(tmp_path, "A {{ x }}").get_template("page.html").render(x=1) == "A 1"
    assert _page_env(tmp_path, "A {{ x }}").get_template("page.html").render(x=2) == "A 2"
    assert len(parsed) == 1
    assert _page_env(tmp_path, "B {{ x }}").get_template("page.html").render(x=3) == "B 3"
    assert len(parsed) == 2


def _other_jinjas(payload: bytes) -> bytes:
    """A compiled template as a jinja of another format would have written it (its magic)."""
    return b"j3" + payload[2:]


@pytest.mark.parametrize("damage", [
    lambda data: data[:len(data) // 2],  # cut short
    lambda data: data[:40] + bytes([data[40] ^ 1]) + data[41:],  # a byte changed
    lambda data: data[:-5] + bytes(5),  # its end zeroed
    lambda data: b"",  # empty
    lambda data: data.replace(b"A ", b"Z "),  # the template's text changed inside its code: loads
], ids=["cut", "flipped", "zeroed", "empty", "code"])
def test_a_damaged_compiled_template_is_never_used(tmp_path, monkeypatch, damage):
    parsed = _parses(monkeypatch)
    _page_env(tmp_path, "A {{ x }}").get_template("page.html")
    [kept] = (tmp_path / "cache").glob("page-*.jinja")
    kept.write_bytes(damage(kept.read_bytes()))
    assert _page_env(tmp_path, "A {{ x }}").get_template("page.html").render(x=1) == "A 1"
    assert len(parsed) == 2  # compiled again, and written over
    assert _page_env(tmp_path, "A {{ x }}").get_template("page.html").render(x=1) == "A 1"
    assert len(parsed) == 2


def test_a_compiled_template_of_another_format_with_a_right_digest_is_not_used(tmp_path, monkeypatch):
    import hashlib

    parsed = _parses(monkeypatch)
    _page_env(tmp_path, "A {{ x }}").get_template("page.html")
    [kept] = (tmp_path / "cache").glob("page-*.jinja")
    payload = _other_jinjas(kept.read_bytes()[32:])
    kept.write_bytes(hashlib.sha256(payload).digest() + payload)
    assert _page_env(tmp_path, "A {{ x }}").get_template("page.html").render(x=1) == "A 1"
    assert len(parsed) == 2


def test_another_jinja_version_keeps_its_compiled_template_apart(tmp_path, monkeypatch):
    import jinja2

    parsed = _parses(monkeypatch)
    _page_env(tmp_path, "A {{ x }}").get_template("page.html")
    monkeypatch.setattr(jinja2, "__version__", "0.0-other")
    assert _page_env(tmp_path, "A {{ x }}").get_template("page.html").render(x=1) == "A 1"
    assert len(parsed) == 2
    assert len(list((tmp_path / "cache").glob("page-*.jinja"))) == 2


@pytest.mark.parametrize("what", ["file", "folder"])
def test_a_compiled_template_others_can_write_is_not_used(tmp_path, monkeypatch, what):
    parsed = _parses(monkeypatch)
    _page_env(tmp_path, "A {{ x }}").get_template("page.html")
    [kept] = (tmp_path / "cache").glob("page-*.jinja")
    (kept if what == "file" else kept.parent).chmod(0o666 if what == "file" else 0o777)
    assert _page_env(tmp_path, "A {{ x }}").get_template("page.html").render(x=1) == "A 1"
    assert len(parsed) == 2
