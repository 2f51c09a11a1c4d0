"""wording: what the `rulebook` command says around its verdicts, in Japanese and English.

The lines `check`, `audit`, `test`, `rules`, `watch` and `diff` print for a person (counts,
coverage, a failed test case, an error before any work starts), and click's own usage errors
(`No such option`, `Missing argument`), worded here once in both languages. A line is made with
`said(key, **values)` (a Message) and printed in the `--lang` asked for (Japanese by default).
"""

from __future__ import annotations

import re
import sys
from typing import Any

import click

from ..language.message import Message, fill

# key: (English, Japanese)
CATALOGUE: dict[str, tuple[str, str]] = {
    # check
    "no_case": ("rulebook: no case found in the given files", "rulebook: 指定されたファイルにケースがありません"),
    # audit
    "audited": ("{cases} cases judged ({eligible} eligible, {incomplete} incomplete, {ineligible} ineligible), "
                "{invalid} invalid; written to {out}",
                "{cases}件を判定しました(謝金対象 {eligible}件、未確定 {incomplete}件、謝金対象外 {ineligible}件)。"
                "入力エラー {invalid}件。{out} に書き出しました"),
    "batch_rule_not_evaluated": ("rulebook audit: the batch rule `{rule}` could not be evaluated, and has no "
                                 "findings: {reason}",
                                 "rulebook audit: バッチのルール `{rule}` を評価できなかったため、所見はありません: "
                                 "{reason}"),
    # rules
    "rules_counted": ("{count} rules", "要件 {count}件"),
    "batch_rules_counted": (", {count} batch rules", "、バッチの要件 {count}件"),
    "batch_subject": ("batch: over {over}, by {keys}", "バッチ: {over} を {keys} ごとに"),
    # test
    "test_error": ("error: {problem}", "エラー: {problem}"),
    "test_fail": ("FAIL {file}:{line}: {note}", "失敗 {file}:{line}: {note}"),
    "test_counts": ("{cases} cases: {passed} passed, {failed} failed{unread}",
                    "{cases}件: 成功 {passed}件、失敗 {failed}件{unread}"),
    "test_unread": (", {count} test file{s} not read (its cases were not run)",
                    "、読めなかったテストファイル {count}件(そのケースは実行していません)"),
    "test_coverage": ("clause coverage: {reached}/{total} clauses reached",
                      "節の網羅: {total}節のうち{reached}節に到達"),
    "test_not_reached": ("  not reached: {rule} clause {number} (→ {status}) at {where}",
                         "  未到達: {rule} の{number}番目の節(→ {status}) {where}"),
    "wanted_verdict": ("verdict: wanted {want}, got {got}", "判定: 期待 {want}、結果 {got}"),
    "wanted_status": ("{rule} {subject}: wanted {want}, got {got} (clause {clause}: {message})",
                      "{rule} {subject}: 期待 {want}、結果 {got}({clause}番目の節: {message})"),
    "wanted_payout": ("payout.{key}: wanted {want}, got {got}", "payout.{key}: 期待 {want}、結果 {got}"),
    "wanted_due": ("{key}: wanted due {want}, got {got}", "{key}: 期待する期限 {want}、結果 {got}"),
    "batch_not_evaluable": ("the batch rules could not be evaluated: {reason}",
                            "バッチのルールを評価できませんでした: {reason}"),
    "no_such_result": ("{key}: no such result", "{key}: その結果はありません"),
    "message_does_not_say": ("{key}: the message does not say `{needle}`: {message}",
                             "{key}: メッセージに `{needle}` がありません: {message}"),
    "one_document": ("a test file holds one YAML document", "テストファイルには YAML の文書を1つだけ書きます"),
    "unreadable_test_file": ("{path}: cannot read the test file: {reason}",
                             "{path}: テストファイルを読めません: {reason}"),
    "not_a_test_file": ("{path}: a test file is a mapping with `cases:` or `batches:` (a list)",
                        "{path}: テストファイルは `cases:` か `batches:`(リスト)を持つマッピングです"),
    "case_at_line": ("case at line {line}", "{line}行目のケース"),
    "case_not_a_mapping": ("a case is a mapping", "ケースはマッピングで書きます"),
    "cannot_build": ("cannot build the snapshot: {reason}", "スナップショットを作れません: {reason}"),
    "unknown_want_keys": ("unknown `want` keys: {keys} ({known})", "`want` の未知のキー: {keys}({known})"),
    "rejected": ("the snapshot was rejected: {errors}", "スナップショットが入力エラーになりました: {errors}"),
    "wanted_input_error": ("wanted an input error at `{path}`, got {got}",
                           "`{path}` の入力エラーを期待しましたが、エラーは {got} でした"),
    "wanted_input_error_judged": ("wanted an input error at `{path}`, but the snapshot was judged",
                                  "`{path}` の入力エラーを期待しましたが、スナップショットは判定されました"),
    "batch_at_line": ("batch at line {line}", "{line}行目のバッチ"),
    "batch_not_a_mapping": ("a batch is a mapping with `cases:` (a list)",
                            "バッチは `cases:`(リスト)を持つマッピングで書きます"),
    "batch_case_cannot_build": ("case {number}: cannot build the snapshot: {reason}",
                                "ケース{number}: スナップショットを作れません: {reason}"),
    "batch_case_not_judged": ("case {number} was not judged: {errors}", "ケース{number}は判定されませんでした: {errors}"),
    "batch_evaluated": ("wanted the batch rules to fail with `{error}`, but they were evaluated",
                        "バッチのルールが `{error}` で評価できないことを期待しましたが、評価されました"),
    "no_such_batch_rule": ("{rule}: no such batch rule", "{rule}: そのバッチのルールはありません"),
    "wanted_findings": ("{rule}: wanted {want} findings, got {got} ({shown})",
                        "{rule}: 所見 期待 {want}件、結果 {got}件({shown})"),
    "finding_not_a_mapping": ("{rule} finding {number}: a wanted finding is a mapping",
                              "{rule} の所見{number}: 期待する所見はマッピングで書きます"),
    "finding_unknown_keys": ("{rule} finding {number}: unknown keys {keys} "
                             "(key, cases, case_count, figures, message, clause)",
                             "{rule} の所見{number}: 未知のキー {keys}"
                             "(key, cases, case_count, figures, message, clause)"),
    "finding_part": ("{rule} finding {number}: {part}: wanted {want}, got {got}",
                     "{rule} の所見{number}: {part}: 期待 {want}、結果 {got}"),
    "finding_figure": ("{rule} finding {number}: figure {name}: wanted {want}, got {got}",
                       "{rule} の所見{number}: 数値 {name}: 期待 {want}、結果 {got}"),
    "finding_message": ("{rule} finding {number}: the message does not say `{needle}`: {message}",
                        "{rule} の所見{number}: メッセージに `{needle}` がありません: {message}"),
    # watch
    "cannot_read": ("error: cannot read `{path}`: {reason}", "エラー: `{path}` を読めません: {reason}"),
    "cannot_write": ("error: cannot write `{path}`: {reason}", "エラー: `{path}` に書けません: {reason}"),
    "last_day_moved": ("last day moved → {due}", "期限変更 → {due}"),
    "reminder": ("reminder", "リマインダー"),
}

# click's own messages (the templates click passes to gettext), and their Japanese.
CLICK: dict[str, str] = {
    "Error: {message}": "エラー: {message}",
    "Usage:": "使い方:",
    "Try '{command} {option}' for help.": "'{command} {option}' でヘルプを表示できます。",
    "No such option {name!r}.": "そのようなオプションはありません: {name}",
    "No such option {name!r}. Did you mean {possibility}?": "そのようなオプションはありません: {name}({possibility} のことですか?)",
    "No such option {name!r}. (Did you mean one of: {possibilities}?)":
        "そのようなオプションはありません: {name}({possibilities} のどれかのことですか?)",
    "No such command {name!r}.": "{name!r} というコマンドはありません。",
    "Missing argument {param_hint}.": "引数 {param_hint} がありません。",
    "Missing option {param_hint}.": "オプション {param_hint} がありません。",
    "Missing parameter {param_hint}.": "パラメータ {param_hint} がありません。",
    "Missing command.": "コマンドがありません。",
    "Option {name!r} requires an argument.": "オプション {name!r} には値が必要です。",
    "Option {name!r} requires {nargs} arguments.": "オプション {name!r} には値が{nargs}個必要です。",
    "Option {name!r} does not take a value.": "オプション {name!r} は値を取りません。",
    "Got unexpected extra argument ({args})": "余分な引数があります({args})",
    "Got unexpected extra arguments ({args})": "余分な引数があります({args})",
    "Invalid value for {param_hint}: {message}": "{param_hint} の値が正しくありません: {message}",
    "Invalid value: {message}": "値が正しくありません: {message}",
    "{value!r} is not one of {choices}.": "{value!r} は {choices} のどれでもありません。",
    "{value!r} is not {choice}.": "{value!r} は {choice} ではありません。",
    "{value!r} is not a valid {number_type}.": "{value!r} は正しい{number_type}ではありません。",
    "{value} is not in the range {range}.": "{value} は範囲 {range} にありません。",
    "{name} {filename!r} does not exist.": "{name} {filename!r} は存在しません。",
    "{name} {filename!r} is a directory.": "{name} {filename!r} はフォルダです。",
    "{name} {filename!r} is a file.": "{name} {filename!r} はファイルです。",
    "`{value}` is not a date; write YYYY-MM-DD": "`{value}` は日付ではありません。YYYY-MM-DD と書いてください",  # cli._date
}


def said(key: str, /, **values: Any) -> Message:
    """The catalogue's line `key`, with its values filled in, in both languages."""
    return fill(*CATALOGUE[key], values)


def _pattern(template: str) -> re.Pattern:
    """A click template as a regular expression: each `{name}` or `{name!r}` a group."""
    out, at, seen = [], 0, set()
    for found in re.finditer(r"\{(\w+)(?:![rs])?\}", template):
        out.append(re.escape(template[at:found.start()]))
        name = found.group(1)
        out.append(f"(?P={name})" if name in seen else f"(?P<{name}>.+?)")
        seen.add(name)
        at = found.end()
    out.append(re.escape(template[at:]))
    return re.compile("".join(out) + r"\Z", re.S)


# The most specific template first (the most text besides its values): `{value!r} is not a
# valid {number_type}.` before `{value!r} is not {choice}.`
_PATTERNS = sorted(((_pattern(en), en, ja) for en, ja in CLICK.items()),
                   key=lambda p: -len(re.sub(r"\{\w+(?:![rs])?\}", "", p[1])))


def click_ja(text: str) -> str:
    """A message click made in English, in Japanese where its template is known. A template's
    value that is itself a known message (an invalid value's reason) is translated too."""
    for pattern, _en, ja in _PATTERNS:
        found = pattern.match(text)
        if found:
            values = {k: click_ja(v) for k, v in found.groupdict().items()}
            return re.sub(r"\{(\w+)(?:![rs])?\}", lambda m: values[m.group(1)], ja)
    return text


def language_of(args: list[str]) -> str:
    """The `--lang` of a command line that may not parse (for click's own errors): ja unless
    `--lang en` (or `--lang=en`) is among the arguments."""
    for i, arg in enumerate(args):
        if arg == "--lang" and i + 1 < len(args):
            return args[i + 1] if args[i + 1] in ("ja", "en") else "ja"
        if arg.startswith("--lang="):
            return arg.split("=", 1)[1] if arg.split("=", 1)[1] in ("ja", "en") else "ja"
    return "ja"


class Worded(click.ClickException):
    """One of click's errors shown in Japanese: click shows an error through its `show`, so the
    command (`Main`) raises this in its place when the command line asks for Japanese."""

    def __init__(self, error: click.ClickException):
        super().__init__(error.format_message())
        self.error = error
        self.exit_code = error.exit_code

    def show(self, file=None) -> None:
        file = file or sys.stderr
        ctx = getattr(self.error, "ctx", None)
        if ctx is not None:
            click.echo(ctx.get_usage().replace("Usage:", CLICK["Usage:"], 1), file=file)
            if ctx.command.get_help_option(ctx) is not None:
                hint = CLICK["Try '{command} {option}' for help."].format(
                    command=ctx.command_path, option=ctx.help_option_names[0])
                click.echo(hint + "\n", file=file)
        click.echo(CLICK["Error: {message}"].format(message=click_ja(self.error.format_message())), file=file)


class Main(click.Group):
    """The `rulebook` group: click's own errors (a usage error, a bad value) in the language the
    command line asks for with `--lang` (Japanese unless `--lang en`)."""

    args: list[str] = []

    def main(self, args=None, *rest, **extra):
        self.args = list(sys.argv[1:] if args is None else args)
        return super().main(self.args, *rest, **extra)

    def make_context(self, info_name, args, parent=None, **extra):
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.ClickException as error:
            raise self.worded(error) from None

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except Worded:
            raise
        except click.ClickException as error:
            raise self.worded(error) from None

    def worded(self, error: click.ClickException) -> click.ClickException:
        return Worded(error) if language_of(self.args) == "ja" else error


__all__ = ["CATALOGUE", "CLICK", "Main", "Worded", "said", "click_ja", "language_of"]
