"""The catalogues of messages: every entry in Japanese and English with the same placeholders,
every key the code names present, every diagnostic entry used.

The catalogues: the rule checker's (`language/catalogue.py`: diagnostics by `CODE.key`, and
the words that fill them), the input errors' (`input/messages.py`) and the command's
(`apps/wording.py`, with click's own messages).
"""

from __future__ import annotations

import ast
import string
from pathlib import Path

import pytest

import rulebook
from rulebook.apps import wording
from rulebook.input import messages
from rulebook.language import catalogue
from rulebook.language.diagnostic import Code, diagnose
from rulebook.language.message import Message

SRC = Path(rulebook.__file__).parent
CODES = {member.name: member.value for member in Code}


def placeholders(template: str) -> set[str]:
    return {name for _text, name, _spec, _conv in string.Formatter().parse(template) if name is not None}


def pairs():
    """(where, English, Japanese) of every text of every catalogue."""
    for key in catalogue.keys():
        code, short = key.split(".", 1)
        for part, (en, ja) in catalogue.entry(code, short).items():
            yield f"{key} {part}", en, ja
    for key, (en, ja) in catalogue.WORDS.items():
        yield f"words {key}", en, ja
    for key, (en, ja) in messages.CATALOGUE.items():
        yield f"input {key}", en, ja
    for key, (en, ja) in messages.WORDS.items():
        yield f"input word {key}", en, ja
    for key, (en, ja) in wording.CATALOGUE.items():
        yield f"cli {key}", en, ja
    for en, ja in wording.CLICK.items():
        yield f"click {en}", en, ja


@pytest.mark.parametrize("where,en,ja", list(pairs()), ids=[p[0] for p in pairs()])
def test_every_entry_has_both_languages_and_the_same_placeholders(where, en, ja):
    assert bool(en) == bool(ja), where  # an empty label is empty in both
    # the same values in both; English alone has a plural's ending, `{s}`
    assert placeholders(en) - {"s"} == placeholders(ja), where
    if en and not where.startswith(("input word", "click")):
        # Japanese, not the English copied: a Japanese character somewhere (code stays as it is)
        assert any("\u3040" <= ch <= "\u30ff" or "\u4e00" <= ch <= "\u9fff" for ch in ja), where


def test_every_diagnostic_has_a_message_and_a_label_and_its_code_is_a_code():
    for key in catalogue.keys():
        code, _short = key.split(".", 1)
        assert code in CODES.values(), key
        parts = catalogue.entry(code, _short)
        assert set(parts) <= set(catalogue.PARTS) and "message" in parts and "label" in parts, key


def _calls():
    """(file, line, function name, arguments) of every call in the package's source."""
    for path in sorted(SRC.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                yield path.relative_to(SRC), node.lineno, name, node


def _constant(node) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _code(node) -> str | None:
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "Code":
        return CODES[node.attr]
    return None


def used_keys():
    """The diagnostics' keys and the words' keys the code names, with where."""
    diagnostics, words = {}, {}
    for path, line, name, call in _calls():
        where = f"{path}:{line}"
        args = call.args
        if name in ("error", "diagnose", "_fail", "message_of") and len(args) >= 2 and _code(args[0]):
            key = _constant(args[1])
            if key is None:  # step_amount's own call, with the key it was given (below)
                assert isinstance(args[1], ast.Name) and args[1].id == "key", f"{where}: a key written out"
                continue
            diagnostics[f"{_code(args[0])}.{key}"] = where
        elif name == "step_amount" and len(args) == 4:  # RB314 `previous` / `total`
            diagnostics[f"{Code.OUT_OF_PLACE}.{_constant(args[3])}"] = where
        elif name == "word" and args and _constant(args[0]) is not None and "language" in str(path) \
                or name == "word" and path.parts[0] == "engine":
            words[_constant(args[0])] = where
        elif name in ("one", "texts", "template_texts") and len(args) >= 2 and _constant(args[1]) is not None:
            words[_constant(args[1])] = where
            if name == "one":
                words[_constant(args[1]) + "s"] = where
        for keyword in call.keywords:
            if keyword.arg == "what" and _constant(keyword.value) is not None:
                words[_constant(keyword.value)] = where
    return diagnostics, words


def test_every_key_the_code_names_is_in_the_catalogue_and_every_diagnostic_is_used():
    diagnostics, words = used_keys()
    assert len(diagnostics) > 100
    missing = {key: where for key, where in diagnostics.items() if key not in catalogue.keys()}
    assert not missing, missing
    unused = set(catalogue.keys()) - set(diagnostics)
    assert not unused, sorted(unused)
    missing_words = {key: where for key, where in words.items() if key not in catalogue.WORDS}
    assert not missing_words, missing_words


def test_the_tables_of_words_the_checker_picks_from_are_in_the_catalogue():
    from rulebook.language import check, check_batch, infer, parse

    table_words = [*check._KIND_WORDS.values(), *infer._OPS.values(),
                   *(w for w in parse._TERMINAL_WORDS.values() if w.startswith("a ")),
                   "added up", "spread over days", "compared", "a record", "a table", "this value"]
    assert check_batch  # its figure words are listed above
    assert [w for w in table_words if w not in catalogue.WORDS] == []


def test_a_diagnostic_carries_both_languages():
    d = diagnose(Code.UNKNOWN_FIELD, "unknown_field", None, field="hour", record="step")
    assert isinstance(d.message, Message) and d.key == "RB201.unknown_field"
    assert d.messages() == {
        "ja": {"message": "step に `hour` というフィールドはありません", "label": "step のフィールドではありません",
               "help": None},
        "en": {"message": "unknown field `hour` on step", "label": "not a field of step", "help": None}}
    assert str(d.message) == "unknown field `hour` on step"  # English where English was


def test_a_type_is_described_in_both_languages():
    from rulebook.language import datatype as t

    described = t.list_of(t.DATE).maybe().describe()
    assert described == "optional list of date" and described.ja == "省略可能な日付のリスト"
    table = t.Type("table", inner=t.YEN, key=t.TEXT).describe()
    assert table == "table of yen by text" and table.ja == "文字列をキーとする円の表"


def test_click_messages_are_matched_by_their_templates():
    assert wording.click_ja("No such option '--x'.") == "そのようなオプションはありません: '--x'"
    assert wording.click_ja("Invalid value for '--n': 'a' is not a valid integer.") \
        == "'--n' の値が正しくありません: 'a' は正しいintegerではありません。"
    assert wording.click_ja("'xml' is not one of 'text', 'json'.") == "'xml' は 'text', 'json' のどれでもありません。"
    assert wording.click_ja("something click may say one day") == "something click may say one day"
    assert wording.language_of(["check", "x", "--lang", "en"]) == "en"
    assert wording.language_of(["check", "--lang=en"]) == "en"
    assert wording.language_of(["check", "x"]) == "ja"
