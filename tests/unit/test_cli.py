"""`rulebook check`, `schema`, `rules`, `test` as a user runs them."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from rulebook.apps.cli import main

from ..conftest import EXAMPLES, ROOT

SEED = str(EXAMPLES / "seed-case.yaml")
FAILING = str(EXAMPLES / "failing-case.yaml")
PENDING = str(EXAMPLES / "pending-case.yaml")


def run(*args, env=None, input=None):
    runner = CliRunner()
    return runner.invoke(main, list(args), env=env or {}, input=input, catch_exceptions=False)


def test_check_the_worked_example_in_japanese():
    result = run("check", SEED)
    assert result.exit_code == 0
    out = result.output
    assert "判定: 謝金対象(" in out
    for amount in ("60,000円", "12,000円", "48,000円", "140,000円", "188,000円"):
        assert amount in out
    assert "\x1b[" not in out  # not a terminal: plain


def test_check_in_english():
    result = run("check", SEED, "--lang", "en")
    assert result.exit_code == 0
    assert "eligible" in result.output and "188,000 yen" in result.output


@pytest.mark.parametrize("path, code, verdict", [(SEED, 0, "eligible"), (FAILING, 1, "ineligible"),
                                                  (PENDING, 3, "incomplete")])
def test_exit_codes(path, code, verdict):
    result = run("check", path, "--format", "json")
    assert result.exit_code == code
    assert json.loads(result.output)["verdict"] == verdict


def test_failures_and_pending_come_first_with_fix_and_due():
    out = run("check", PENDING).output
    todo, rest = out.split("■ そのほかの要件")
    assert "支援報告書の提出期限" in todo and "→ 対応:" in todo
    assert "→ 期限: 2021年2月18日(あと8日)" in todo
    assert "✓" not in todo


def test_jsonl_keeps_input_order_and_judges_around_bad_input(tmp_path):
    seed = orjson.loads(orjson.dumps(__import__("yaml").safe_load(Path(SEED).read_text(encoding="utf-8"))))
    lines = []
    for i in range(3):
        case = dict(seed, case_id=f"C-{i}")
        lines.append(orjson.dumps(case).decode())
    lines.insert(1, "{not json")
    lines.insert(3, orjson.dumps(dict(seed, case_id="BAD", steps=[dict(seed["steps"][0], hours=-1)])).decode())
    batch = tmp_path / "batch.jsonl"
    batch.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run("check", str(batch), "--format", "jsonl")
    assert result.exit_code == 2
    out = [json.loads(x) for x in result.output.splitlines()]
    assert [o["format"] for o in out] == ["rulebook.verdict/v1", "rulebook.error/v1", "rulebook.verdict/v1",
                                          "rulebook.error/v1", "rulebook.verdict/v1"]
    assert [o.get("case_id") for o in out] == ["C-0", None, "C-1", "BAD", "C-2"]
    assert out[1]["source"] == {"file": str(batch), "line": 2}
    assert out[3]["errors"][0]["path"] == "steps[0].hours"
    assert out[3]["source"]["line"] == 4


def test_a_folder_of_cases_in_sorted_order(tmp_path):
    for name in ("b.yaml", "a.yaml"):
        shutil.copy(SEED, tmp_path / name)
    shutil.copy(FAILING, tmp_path / "c.yaml")
    result = run("check", str(tmp_path), "--format", "jsonl")
    assert result.exit_code == 1
    assert [json.loads(x)["verdict"] for x in result.output.splitlines()] == ["eligible", "eligible", "ineligible"]


def test_stdin_and_as_of():
    text = Path(PENDING).read_text(encoding="utf-8")
    on_time = run("check", "-", "--format", "json", "--as-of", "2021-02-18", input=text)
    assert json.loads(on_time.output)["verdict"] == "incomplete" and on_time.exit_code == 3
    late = run("check", "-", "--format", "json", "--as-of", "2021-02-19", input=text)
    data = json.loads(late.output)
    assert data["as_of"] == "2021-02-19"
    assert data["verdict"] == "ineligible" and late.exit_code == 1
    deadline = next(r for r in data["results"] if r["rule"] == "step.report-deadline")
    assert deadline["status"] == "fail" and "2021-02-18" in deadline["message"]["en"]


def test_bad_usage_exits_2():
    assert run("check", SEED, "--as-of", "yesterday").exit_code == 2
    assert run("check", "/nonexistent/case.yaml").exit_code == 2
    assert run("check").exit_code == 2


def test_click_usage_errors_in_the_language_asked_for():
    """click's own errors (an unknown option, a missing argument, a bad value) in Japanese by
    default and in English with `--lang en`; the exit status is click's, 2."""
    unknown = run("check", SEED, "--bogus")
    assert unknown.exit_code == 2
    assert "エラー: そのようなオプションはありません: '--bogus'" in unknown.output
    assert "使い方: main check" in unknown.output and "'main check -h' でヘルプを表示できます。" in unknown.output
    assert "No such option" not in unknown.output
    unknown_en = run("check", SEED, "--bogus", "--lang", "en")
    assert unknown_en.exit_code == 2 and "Error: No such option '--bogus'." in unknown_en.output
    missing = run("check")
    assert missing.exit_code == 2 and "エラー: 引数 'CASE...' がありません。" in missing.output
    assert "Error: Missing argument 'CASE...'." in run("check", "--lang=en").output
    day = run("check", SEED, "--as-of", "yesterday")
    assert day.exit_code == 2
    assert "エラー: '--as-of' の値が正しくありません: `yesterday` は日付ではありません。YYYY-MM-DD と書いてください" \
        in day.output
    choice = run("check", SEED, "--format", "xml")
    assert "エラー: '--format' の値が正しくありません: 'xml' は 'text', 'json', 'jsonl' のどれでもありません。" \
        in choice.output
    assert "No such command" not in run("nonsense").output and "'nonsense' というコマンドはありません。" in run("nonsense").output
    assert "そのようなオプションはありません: '--lnag'('--lang' のことですか?)" in run("check", SEED, "--lnag", "en").output


def test_a_bad_rule_folder_prints_diagnostics_not_a_traceback(tmp_path):
    (tmp_path / "x.rules").write_text('rulebook "x"\n  stage a title ja "a"\n', encoding="utf-8")
    result = run("check", SEED, "--rules", str(tmp_path))
    assert result.exit_code == 2
    assert "error[RB" in result.output and "Traceback" not in result.output
    # in the language of the command: Japanese by default, English with --lang en
    assert "ルールブックに" in result.output and "error in the rulebook" not in result.output
    english = run("check", SEED, "--rules", str(tmp_path), "--lang", "en")
    assert "error in the rulebook" in english.output or "errors in the rulebook" in english.output


def test_colour_on_request_and_no_color_respected():
    assert "\x1b[" in run("check", SEED, "--color").output
    assert "\x1b[" in run("check", SEED, env={"FORCE_COLOR": "1"}).output
    assert "\x1b[" not in run("check", SEED, env={"FORCE_COLOR": "1", "NO_COLOR": "1"}).output


def test_schema_rules_and_test_commands():
    schema = json.loads(run("schema").output)
    assert schema["title"] == "rulebook.case/v1"
    assert "steps" in schema["properties"]
    listing = run("rules").output
    assert "step.report-deadline" in listing and "原則完了報告から10日以内に提出してください" in listing
    catalogue = json.loads(run("rules", "--format", "json").output)
    assert len(catalogue) == 26 + 3
    batch = [entry for entry in catalogue if entry["subject"] == "batch"]
    assert [(e["rule"], e["over"], e["keys"]) for e in batch] == [
        ("batch.duplicate-case-id", "cases", ["case_id"]), ("batch.implausible-hours", "each step", ["expert", "day"]),
        ("batch.sme-honorarium-cap", "cases", ["sme"])]
    assert catalogue[-3:] == batch  # after the case rules
    assert "batch.implausible-hours  [バッチ: each step を expert, day ごとに]" in listing
    assert "(要件 26件、バッチの要件 3件)" in listing
    listing_en = run("rules", "--lang", "en").output
    assert "batch.implausible-hours  [batch: over each step, by expert, day]" in listing_en
    assert "(26 rules, 3 batch rules)" in listing_en
    tested = run("test", "--require-coverage", "--lang", "en")
    assert tested.exit_code == 0, tested.output
    assert "failed" in tested.output and "clause coverage" in tested.output
    tested_ja = run("test", "--require-coverage")
    assert tested_ja.exit_code == 0, tested_ja.output
    assert "失敗 0件" in tested_ja.output and "節の網羅: " in tested_ja.output


ONE_CASE = "cases:\n  - note: the worked example is eligible\n    want: {verdict: eligible}\n"


def rules_with_tests(tmp_path, tests: dict[str, str]) -> Path:
    """The bundled rules with these test files (name → text) on the worked example as base."""
    folder = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", folder, ignore=shutil.ignore_patterns("tests"))
    (folder / "tests").mkdir()
    (folder / "tests" / "base.yaml").write_text(Path(SEED).read_text(encoding="utf-8"), encoding="utf-8")
    for name, text in tests.items():
        (folder / "tests" / name).write_text(text, encoding="utf-8")
    return folder


def test_rulebook_test_fails_on_an_unreached_clause_only_with_the_flag(tmp_path):
    folder = rules_with_tests(tmp_path, {"one.yaml": ONE_CASE})
    lenient = run("test", str(folder), "--lang", "en")
    assert lenient.exit_code == 0
    assert "not reached: lancers.project-method clause 2 (→ fail)" in lenient.output
    assert run("test", str(folder), "--require-coverage").exit_code == 1


def test_a_test_file_that_does_not_read_is_located_and_counted(tmp_path):
    """An unquoted path with brackets in a flow mapping (`set: {steps[0].hours: 10}`) once gave
    PyYAML's raw error and a summary of "… passed" while the run exited 1."""
    folder = rules_with_tests(tmp_path, {
        "good.yaml": ONE_CASE, "flow.yaml": "cases:\n  - note: a path in a flow mapping\n    set: {steps[0].hours: 10}\n"})
    result = run("test", str(folder), "--lang", "en")
    assert result.exit_code == 1
    assert "1 cases: 1 passed, 0 failed, 1 test file not read (its cases were not run)" in result.output
    assert f"{folder / 'tests' / 'flow.yaml'}:3:" in result.output  # the line and column of the problem
    assert 'quote a path that holds `[…]` inside `{…}`: {"steps[0].hours": 10}' in result.output
    assert "「[…]」を含むパスは引用符で囲んでください" in result.output
    assert "Traceback" not in result.output


def test_the_installed_command_runs_as_a_process():
    result = subprocess.run([sys.executable, "-m", "rulebook.apps.cli", "check", SEED, "--format", "json"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    assert json.loads(result.stdout)["payout"]["expert_total_jpy"] == 188000


def test_the_lines_around_the_verdicts_in_both_languages(tmp_path):
    """The audit's last line, and a rule file that `rulebook fmt` cannot read, in Japanese by
    default and in English with --lang en."""
    ja = run("audit", SEED, "--out", str(tmp_path / "ja"), "--jobs", "1")
    assert ja.exit_code == 0, ja.output
    assert f"1件を判定しました(謝金対象 1件、未確定 0件、謝金対象外 0件)。入力エラー 0件。{tmp_path / 'ja'} に書き出しました" \
        in ja.output
    en = run("audit", SEED, "--out", str(tmp_path / "en"), "--jobs", "1", "--lang", "en")
    assert f"1 cases judged (1 eligible, 0 incomplete, 0 ineligible), 0 invalid; written to {tmp_path / 'en'}" \
        in en.output
    bad = tmp_path / "bad.rules"
    bad.write_text("rule a.b on case\n  stage s1 @\n", encoding="utf-8")
    assert "error[RB101]: 予期しない文字 `@` があります" in run("fmt", "--check", str(bad)).output
    assert "error[RB101]: unexpected character `@`" in run("fmt", "--check", str(bad), "--lang", "en").output


def test_rulebook_test_says_its_failures_in_japanese_and_english(tmp_path):
    """The rarer failures of `rulebook test` — a test file that does not read, unknown `want` keys,
    a snapshot rejected, a batch rule that does not exist, findings that differ — in the language
    asked for, Japanese by default."""
    folder = rules_with_tests(tmp_path, {
        "flow.yaml": "cases:\n  - note: a path in a flow mapping\n    set: {steps[0].hours: 10}\n",
        "bad.yaml": ("base: base.yaml\ncases:\n  - note: x\n    set: {\"steps[0].hours\": \"abc\"}\n"
                     "    want: {verdict: eligible, nope: 1}\nbatches:\n  - note: b\n    cases: [{}]\n"
                     "    want: {findings: {batch.x: [], batch.duplicate-case-id: [{key: {case_id: Z}}]}}\n")})
    ja = run("test", str(folder)).output
    for line in ("テストファイルを読めません", "YAML として読めません", "`want` の未知のキー: nope",
                 "スナップショットが入力エラーになりました: steps[0].hours: 時間数は", "batch.x: そのバッチのルールはありません",
                 "batch.duplicate-case-id: 所見 期待 1件、結果 0件(なし)"):
        assert line in ja, (line, ja)
    en = run("test", str(folder), "--lang", "en").output
    for line in ("cannot read the test file", "not valid YAML", "unknown `want` keys: nope",
                 "the snapshot was rejected: steps[0].hours: expected a number of hours", "batch.x: no such batch rule",
                 "batch.duplicate-case-id: wanted 1 findings, got 0 (none)"):
        assert line in en, (line, en)
    assert "Traceback" not in ja + en
