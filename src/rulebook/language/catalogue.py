"""catalogue: every word the rule checker says, in English and Japanese.

A diagnostic is worded here once, keyed by its code and a short key (`RB201.unknown_field`):
its message, the label under the caret and, where it has one, its help line, each in both
languages with the same placeholders. `WORDS` holds the phrases that fill placeholders (what
a text is for, the words of a hint) and the help lines shared by several diagnostics.
The checker makes a diagnostic with `diagnostic.diagnose(code, key, span, **values)`;
`tests/unit/test_catalogue.py` holds every entry to both languages and the same placeholders,
and every key the code names to an entry.
"""

from __future__ import annotations

from typing import Any

from .message import Message, fill

PARTS = ("message", "label", "help")

# "CODE.key": (message en, message ja, label en, label ja[, help en, help ja])
_DIAGNOSTICS: dict[str, tuple[str, ...]] = {
    # ------------------------------------------------------------ RB1xx: reading and syntax
    "RB101.unexpected_character": (
        "unexpected character `{char}`", "予期しない文字 `{char}` があります",
        "not part of the rule language", "ルール言語の文字ではありません"),
    "RB102.unexpected_after": (
        "unexpected `{token}` after `{before}`", "`{before}` のあとに予期しない `{token}` があります",
        "not expected here", "ここには書けません",
        "inside a larger expression, write `({before} … in … where …)` in parentheses",
        "大きな式の中では `({before} … in … where …)` のように括弧で囲んでください"),
    "RB102.unexpected_token": (
        "unexpected `{token}`", "予期しない `{token}` があります",
        "not expected here", "ここには書けません"),
    "RB103.unexpected_end": (
        "the file ends in the middle of a declaration", "宣言の途中でファイルが終わっています",
        "more was expected here", "ここに続きが必要です"),
    "RB104.unterminated_text": (
        "unterminated text", "文字列が閉じていません",
        "this text has no closing `\"` on its line", "この文字列には同じ行に閉じる `\"` がありません",
        "close the text with `\"` on the same line; write `\\\"` for a quote inside it",
        "同じ行の `\"` で文字列を閉じてください。文字列の中の引用符は `\\\"` と書きます"),
    "RB104.unbalanced_brace": (
        "unbalanced brace in a text", "文字列の中の波括弧が対応していません",
        "a brace must open or close an interpolation", "波括弧は埋め込みを開くか閉じるものです",
        "write `\\{{` or `\\}}` for a literal brace", "波括弧そのものは `\\{{` または `\\}}` と書きます"),
    "RB104.empty_interpolation": (
        "empty interpolation", "埋め込みが空です",
        "nothing between the braces", "波括弧の間に何もありません",
        "write a name or expression inside, or `\\{{` for a brace",
        "中に名前か式を書くか、波括弧そのものは `\\{{` と書いてください"),
    "RB104.incomplete_interpolation": (
        "incomplete expression in an interpolation", "埋め込みの式が途中で終わっています",
        "this expression stops short", "この式は途中で終わっています"),
    "RB104.interpolation_not_allowed": (
        "a {what} cannot hold interpolations", "{what}には埋め込みを書けません",
        "only plain text here", "ここには文字列だけを書きます",
        "write `\\{{` for a literal brace", "波括弧そのものは `\\{{` と書きます"),
    "RB105.not_a_date": (
        "`{token}` is not a date", "`{token}` は日付ではありません",
        "no such day", "そのような日はありません",
        "write a real calendar day as YYYY-MM-DD", "実在する日を YYYY-MM-DD の形で書いてください"),
    "RB106.not_utf8": (
        "`{file}` is not UTF-8 (line {line})", "`{file}` は UTF-8 ではありません({line}行目)",
        "", "",
        "save the rule file as UTF-8", "ルールファイルを UTF-8 で保存してください"),
    "RB106.nul": (
        "`{file}` holds a NUL character", "`{file}` に NUL 文字があります",
        "", "",
        "a rule file is text", "ルールファイルはテキストです"),
    "RB107.too_deep": (
        "expression nested more than {limit} levels deep", "式の入れ子が{limit}段より深くなっています",
        "nested too deeply", "入れ子が深すぎます",
        "name the inner parts with `let` and use the names", "内側の部分に `let` で名前を付け、その名前を使ってください"),
    "RB108.no_folder": (
        "no rulebook folder at `{folder}`", "`{folder}` にルールブックのフォルダがありません",
        "", ""),
    "RB108.no_files": (
        "no `{suffix}` files in `{folder}`", "`{folder}` に `{suffix}` ファイルがありません",
        "", ""),
    # ------------------------------------------------------------ RB2xx: names
    "RB201.unknown_field": (
        "unknown field `{field}` on {record}", "{record} に `{field}` というフィールドはありません",
        "not a field of {record}", "{record} のフィールドではありません"),
    "RB201.unknown_amount": (
        "unknown amount `{name}` of the payout", "支払いに `{name}` という金額はありません",
        "not an amount of the case", "ケースの金額ではありません"),
    "RB201.unknown_field_in": (
        "unknown field `{field}` in `{record}`", "`{record}` に `{field}` というフィールドはありません",
        "not a field of this record", "このレコードのフィールドではありません"),
    "RB201.unknown_numbering_field": (
        "unknown field `{field}` in `{record}`", "`{record}` に `{field}` というフィールドはありません",
        "not a field of the listed record", "リストのレコードのフィールドではありません"),
    "RB202.unknown_name": (
        "unknown name `{name}`", "`{name}` という名前はありません",
        "not a field, parameter or `let` here", "ここで使えるフィールド・パラメータ・`let` ではありません"),
    "RB202.unknown_function": (
        "unknown function `{function}`", "`{function}` という関数はありません",
        "not a function of the language", "ルール言語の関数ではありません",
        "the functions are {functions}", "関数は {functions} です"),
    "RB202.unknown_step_amount": (
        "unknown step amount `{name}`", "ステップに `{name}` という金額はありません",
        "not an amount of a step", "ステップの金額ではありません"),
    "RB202.not_a_step": (
        "`{name}` is not a step here", "ここでは `{name}` はステップではありません",
        "not a step", "ステップではありません",
        "write `on step` in `payout on each step`, or `on case`",
        "`payout on each step` の中では `on step` と、そうでなければ `on case` と書いてください"),
    "RB202.unknown_order": (
        "unknown order `{order}`", "`{order}` という順序はありません",
        "not a declared order", "宣言された順序ではありません"),
    "RB202.one_case_field": (
        "`{name}` belongs to one case, not to a group of cases",
        "`{name}` は1つのケースのもので、ケースのグループのものではありません",
        "a group holds many cases", "グループには多くのケースが入ります",
        "read it where each case is read (`group by`, `where`, a figure such as `max …`), and use that here; "
        "a group has {names}",
        "ケースを1つずつ読むところ(`group by`、`where`、`max …` などの集計値)で読み、その名前をここで使ってください。"
        "グループにあるのは {names} です"),
    "RB203.duplicate_rule": (
        "rule `{rule}` is declared twice", "ルール `{rule}` が2回宣言されています",
        "second declaration", "2回目の宣言",
        "the first is at {first}", "1回目は {first} にあります"),
    "RB204.duplicate_header": (
        "the `rulebook` header is declared twice", "`rulebook` ヘッダが2回宣言されています",
        "second header", "2つ目のヘッダ",
        "the first is at {first}", "1つ目は {first} にあります"),
    "RB204.duplicate_stage": (
        "stage `{stage}` is declared twice", "段階 `{stage}` が2回宣言されています",
        "second declaration", "2回目の宣言"),
    "RB204.duplicate_parameter": (
        "parameter `{name}` is declared twice", "パラメータ `{name}` が2回宣言されています",
        "second declaration", "2回目の宣言"),
    "RB204.duplicate_order": (
        "order `{name}` is declared twice", "順序 `{name}` が2回宣言されています",
        "second declaration", "2回目の宣言"),
    "RB204.duplicate_payout": (
        "this payout section is declared twice", "この支払いの節が2回宣言されています",
        "second declaration", "2回目の宣言"),
    "RB204.duplicate_let": (
        "`{name}` is defined twice", "`{name}` が2回定義されています",
        "second definition", "2回目の定義"),
    "RB204.let_hides": (
        "`{name}` is already a {kind}", "`{name}` はすでに{kind}の名前です",
        "hides it", "それを隠してしまいます",
        "choose another name", "別の名前にしてください"),
    "RB204.duplicate_amount": (
        "amount `{name}` is defined twice", "金額 `{name}` が2回定義されています",
        "second definition", "2回目の定義"),
    "RB204.duplicate_in_rule": (
        "`{name}` is defined twice in `{rule}`", "`{rule}` の中で `{name}` が2回定義されています",
        "second definition", "2回目の定義"),
    "RB204.duplicate_record": (
        "record `{name}` is declared twice", "レコード `{name}` が2回宣言されています",
        "second declaration", "2回目の宣言",
        "the first is at {first}", "1回目は {first} にあります"),
    "RB204.duplicate_field": (
        "field `{field}` is declared twice in `{record}`", "`{record}` の中でフィールド `{field}` が2回宣言されています",
        "second declaration", "2回目の宣言"),
    "RB204.duplicate_label": (
        "the value `{value}` is labelled twice", "値 `{value}` に表示名が2回付いています",
        "second label", "2つ目の表示名"),
    "RB205.unknown_rule": (
        "unknown rule `{rule}`", "`{rule}` というルールはありません",
        "no such rule", "そのようなルールはありません"),
    "RB206.unknown_type": (
        "unknown type `{name}`", "`{name}` という型はありません",
        "not a type", "型ではありません",
        "types are text, date, boolean, integer, decimal, yen, yen per hour, hours, days, business days, months, "
        "percent, optional T, list of T, table of T by K, and the records",
        "型は text、date、boolean、integer、decimal、yen、yen per hour、hours、days、business days、months、"
        "percent、optional T、list of T、table of T by K と、宣言したレコードです"),
    "RB207.unknown_stage": (
        "unknown stage `{stage}`", "`{stage}` という段階はありません",
        "not a declared stage", "宣言された段階ではありません",
        "stages are {stages}", "段階は {stages} です"),
    "RB208.unknown_value": (
        "`{value}` is not a value of `{field}`", "`{value}` は `{field}` の値ではありません",
        "not one of its values", "その値のどれでもありません",
        "its values are {values}", "値は {values} です"),
    "RB209.reserved_field": (
        "`{name}` cannot name a field", "`{name}` はフィールドの名前にできません",
        "reserved name", "予約された名前です",
        "a field's name starts with a letter, and is neither a Python keyword nor a name of the snapshot's model "
        "(`model_…`, `copy`, `json`, `schema`, …): choose another",
        "フィールドの名前は英字で始め、Python のキーワードやスナップショットのモデルの名前"
        "(`model_…`、`copy`、`json`、`schema` など)は使えません。別の名前にしてください"),
    # ------------------------------------------------------------ RB3xx: types and structure
    "RB301.must_be": (
        "{what} must be {want}, not {found}", "{what}は{want}でなければなりませんが、{found}です",
        "this is {found}", "これは{found}です"),
    "RB301.no_fields": (
        "`{name}` is read from {found}, which has no fields", "`{name}` を読もうとしている{found}にはフィールドがありません",
        "not a record", "レコードではありません"),
    "RB301.not_a_table": (
        "only a table can be looked up with `[…]`, not {found}", "`[…]` で引けるのは表だけで、{found}は引けません",
        "not a table", "表ではありません"),
    "RB301.table_key": (
        "this table is keyed by {want}, not {found}", "この表のキーは{want}で、{found}ではありません",
        "wrong key", "キーの種類が違います"),
    "RB301.arithmetic": (
        "cannot {op} {left} and {right}", "{left}と{right}は{op}できません",
        "no such arithmetic", "この計算はできません"),
    "RB301.negate": (
        "cannot negate {found}", "{found}の符号は反転できません",
        "not a number", "数ではありません"),
    "RB301.compare": (
        "cannot compare {left} with {right}", "{left}と{right}は比べられません",
        "different kinds of value", "値の種類が違います"),
    "RB301.empty": (
        "only a list or a text can be empty, not {found}", "空になりうるのはリストか文字列だけで、{found}は空になりません",
        "not a list", "リストではありません"),
    "RB301.blank": (
        "only a text can be blank, not {found}", "空白になりうるのは文字列だけで、{found}は空白になりません",
        "not a text", "文字列ではありません"),
    "RB301.in_list": (
        "`in` looks in a list, not in {found}", "`in` が探すのはリストの中で、{found}の中ではありません",
        "not a list", "リストではありません"),
    "RB301.list_cannot_hold": (
        "a list of {inner} cannot hold {item}", "{inner}のリストに{item}は入りません",
        "different kinds of value", "値の種類が違います"),
    "RB301.round": (
        "cannot round {found}", "{found}は丸められません",
        "not a number", "数ではありません"),
    "RB301.keys": (
        "only a table has keys, not {found}", "キーがあるのは表だけで、{found}にはありません",
        "not a table", "表ではありません"),
    "RB301.add_up": (
        "cannot add up {found}", "{found}は合計できません",
        "not a number", "数ではありません"),
    "RB301.list_of_one_kind": (
        "a list holds values of one kind", "リストには1種類の値だけが入ります",
        "{found} among {first}", "{first}の中に{found}があります"),
    "RB301.function_kinds": (
        "`{function}` of {left} and {right}", "{left}と{right}の `{function}`",
        "a different kind of value", "種類の違う値です",
        "`{function}` takes values of one kind: yen with yen, dates with dates",
        "`{function}` には1種類の値を渡します。円なら円どうし、日付なら日付どうしです"),
    "RB301.condition": (
        "a condition must be yes or no, not {found}", "条件ははい・いいえのどちらかでなければなりませんが、{found}です",
        "this is {found}", "これは{found}です"),
    "RB301.not_a_list": (
        "expected a list, found {found}", "リストが必要ですが、{found}です",
        "not a list", "リストではありません"),
    "RB301.different_kinds": (
        "the two values are of different kinds: {left} and {right}", "2つの値の種類が違います: {left}と{right}",
        "both sides must be of one kind", "両辺は同じ種類でなければなりません"),
    "RB301.order_not_a_date": (
        "`{path}` is {found}, not a date", "`{path}` は{found}で、日付ではありません",
        "an order is between dates", "順序は日付どうしのものです"),
    "RB301.amount_not_yen": (
        "amount `{name}` is {found}, not yen", "金額 `{name}` は{found}で、円ではありません",
        "an amount is in yen", "金額は円です"),
    "RB301.group_key": (
        "a group's key is text, a date, a whole number or yes/no, not {found}",
        "グループのキーは文字列・日付・整数・はい/いいえのどれかで、{found}は使えません",
        "this is {found}", "これは{found}です"),
    "RB301.figure": (
        "{found} cannot be {done}", "{found}は{done}ことができません",
        "this is {found}", "これは{found}です",
        "`{kind}` takes {allowed}", "`{kind}` が受け取るのは {allowed} です"),
    "RB301.table_key_type": (
        "a table is keyed by text or integer, not `{found}`", "表のキーは text か integer で、`{found}` は使えません",
        "not a key type", "キーにできる型ではありません"),
    "RB301.numbered_by_integer": (
        "`numbered by` needs an integer field, and `{field}` is `{found}`",
        "`numbered by` には整数のフィールドが必要ですが、`{field}` は `{found}` です",
        "not an integer field", "整数のフィールドではありません"),
    "RB301.case_field_type": (
        "`{name}` in `record case` is {found}, not {want}", "`record case` の `{name}` は{found}で、{want}ではありません",
        "must be {want}", "{want}でなければなりません"),
    "RB301.identifier_on_text": (
        "`identifier` goes on a text field", "`identifier` は文字列のフィールドに付けます",
        "not a text field", "文字列のフィールドではありません"),
    "RB302.may_be_missing": (
        "{shown} may be missing here, and nothing says what happens then",
        "{shown}はここで値がないことがありますが、そのときどうなるかが書かれていません",
        "may be missing", "値がないことがあります",
        "guard it with `{key} is set and …` (or an earlier `when {key} is missing` clause), "
        "or give a default with `{key} if missing …`",
        "`{key} is set and …` で確かめるか(または前の節で `when {key} is missing` を扱う)、"
        "`{key} if missing …` で既定の値を与えてください"),
    "RB303.after_otherwise": (
        "this clause can never be reached", "この節に到達することはありません",
        "after `otherwise`", "`otherwise` のあとにあります",
        "`otherwise` at {first} takes every case left", "{first} の `otherwise` が残りのケースをすべて受け取ります"),
    "RB303.same_condition": (
        "this clause can never be reached", "この節に到達することはありません",
        "same condition as an earlier clause", "前の節と同じ条件です",
        "the clause at {first} takes these cases first", "{first} の節がこれらのケースを先に受け取ります"),
    "RB303.same_condition_groups": (
        "this clause can never be reached", "この節に到達することはありません",
        "same condition as an earlier clause", "前の節と同じ条件です",
        "the clause at {first} takes these groups first", "{first} の節がこれらのグループを先に受け取ります"),
    "RB303.known_set": (
        "this clause can never be reached", "この節に到達することはありません",
        "`{key}` is known to be set here", "ここでは `{key}` に値があることがわかっています",
        "an earlier clause took the cases where it is missing", "値がないケースは前の節が受け取っています"),
    "RB303.false": (
        "this clause can never be reached", "この節に到達することはありません",
        "the condition is `false`", "条件が `false` です"),
    "RB304.missing_language": (
        "the {what} has no `{lang}` text", "{what}に `{lang}` の文がありません",
        "`{lang}` missing", "`{lang}` がありません",
        "add `{lang} \"…\"` after the other language", "もう一方の言語のあとに `{lang} \"…\"` を加えてください"),
    "RB305.no_otherwise": (
        "rule `{rule}` has no `otherwise` clause", "ルール `{rule}` に `otherwise` の節がありません",
        "the last clause", "最後の節",
        "end the rule with `otherwise STATUS` so that every case gets a status",
        "どのケースにも状態が付くよう、ルールを `otherwise 状態` で終えてください"),
    "RB306.amount_fraction": (
        "amount `{name}` may hold a fraction of a yen", "金額 `{name}` に1円未満の端数が出ることがあります",
        "not rounded", "丸めていません",
        "say how to round it: `(…) rounded down`", "丸め方を書いてください: `(…) rounded down`"),
    "RB306.figure_fraction": (
        "figure `{name}` may hold a fraction of a yen", "集計値 `{name}` に1円未満の端数が出ることがあります",
        "not rounded", "丸めていません",
        "say how to round it: `(…) rounded down`", "丸め方を書いてください: `(…) rounded down`"),
    "RB307.order_cycle": (
        "order `{name}` goes round in a circle", "順序 `{name}` が循環しています",
        "a date comes after itself", "ある日付が自分自身のあとに来ます",
        "remove one of the arrows of the circle", "循環している矢印のどれか1つを取り除いてください"),
    "RB307.let_cycle": (
        "`{name}` is defined in terms of itself", "`{name}` が自分自身を使って定義されています",
        "goes round in a circle", "循環しています"),
    "RB307.payout_cycle": (
        "rule `{rule}` reads the payout, and the payout reads its result",
        "ルール `{rule}` が支払いを読み、支払いがそのルールの結果を読んでいます",
        "depends on every rule of this subject", "この対象のすべてのルールに依存しています",
        "add `except {rule}` here, or let the rule not read the payout",
        "ここに `except {rule}` を加えるか、ルールが支払いを読まないようにしてください"),
    "RB308.ends_before_start": (
        "the value ends before it starts", "値の終わりが始まりより前です",
        "until is before from", "until が from より前です"),
    "RB308.overlap": (
        "two values of `{name}` hold on the same day", "`{name}` の2つの値が同じ日に有効です",
        "overlaps the value before it", "前の値と重なっています",
        "end the earlier value with `until` the day before this one starts",
        "前の値を、この値が始まる前日までの `until` で終えてください"),
    "RB308.key_kind": (
        "the key `{key}` is not {want}", "キー `{key}` は{want}ではありません",
        "wrong key", "キーの種類が違います"),
    "RB308.value_kind": (
        "this value is not {want}", "この値は{want}ではありません",
        "wrong kind of value", "値の種類が違います"),
    "RB309.no_header": (
        "the rulebook has no `rulebook` header", "ルールブックに `rulebook` ヘッダがありません",
        "rules start here", "ルールはここから始まっています",
        "declare it once: `rulebook \"name\" version \"1\" title ja \"…\" en \"…\"`",
        "1回だけ宣言してください: `rulebook \"name\" version \"1\" title ja \"…\" en \"…\"`"),
    "RB309.no_value": (
        "parameter `{name}` has no value", "パラメータ `{name}` に値がありません",
        "no `value … from …`", "`value … from …` がありません",
        "add a line `value … from YYYY-MM-DD`", "`value … from YYYY-MM-DD` の行を加えてください"),
    "RB309.no_part": (
        "`{owner}` has no {what}", "`{owner}` に{what}がありません",
        "{what} missing", "{what}がありません",
        "add a `{keyword}` line", "`{keyword}` の行を加えてください"),
    "RB309.record_field_missing": (
        "this {record} has no `{field}`", "この {record} に `{field}` がありません",
        "`{field}` missing", "`{field}` がありません",
        "add `{field}: …` ({type})", "`{field}: …` を加えてください({type})"),
    "RB309.no_steps": (
        "the schema has no numbered list of steps", "スキーマに番号付きのステップのリストがありません",
        "no steps", "ステップがありません",
        "mark the list of steps `numbered by number` in `record case`",
        "`record case` のステップのリストに `numbered by number` を付けてください"),
    "RB309.no_clauses": (
        "rule `{rule}` has no clauses", "ルール `{rule}` に節がありません",
        "no `when` or `otherwise`", "`when` も `otherwise` もありません"),
    "RB309.no_finding_clauses": (
        "rule `{rule}` has no clauses", "ルール `{rule}` に節がありません",
        "no `when … then finding`", "`when … then finding` がありません",
        "say when a group is a finding: `when … then finding`",
        "どんなときグループが指摘になるかを書いてください: `when … then finding`"),
    "RB309.function_arguments": (
        "`{function}` takes two values or more", "`{function}` には2つ以上の値を渡します",
        "one value only", "値が1つしかありません",
        "write `{function}(a, b)`", "`{function}(a, b)` と書いてください"),
    "RB309.no_group_by": (
        "rule `{rule}` has no `group by`", "ルール `{rule}` に `group by` がありません",
        "no key", "キーがありません",
        "say what the cases are grouped by: `group by case_id`, `group by sme.name as sme`",
        "ケースを何でまとめるかを書いてください: `group by case_id`、`group by sme.name as sme`"),
    "RB309.key_without_name": (
        "this key has no name", "このキーには名前がありません",
        "not a plain name", "ただの名前ではありません",
        "name it for the clauses and the findings: `… as NAME`",
        "節と指摘で使う名前を付けてください: `… as 名前`"),
    "RB309.no_record_case": (
        "the schema has no `record case`", "スキーマに `record case` がありません",
        "records are declared here", "レコードはここで宣言されています",
        "declare the snapshot itself as `record case`", "スナップショットそのものを `record case` として宣言してください"),
    "RB309.case_field_missing": (
        "`record case` has no `{name}` field", "`record case` に `{name}` フィールドがありません",
        "the snapshot is declared here", "スナップショットはここで宣言されています",
        "declare `{name}: {want}`", "`{name}: {want}` を宣言してください"),
    "RB310.unknown_language": (
        "unknown language `{lang}`", "`{lang}` という言語はありません",
        "not a language of the rulebook", "ルールブックの言語ではありません",
        "texts are in `ja` and `en`", "文は `ja` と `en` で書きます"),
    "RB311.text_twice": (
        "the {what} is given twice in `{lang}`", "{what}が `{lang}` で2回書かれています",
        "second text", "2つ目の文"),
    "RB311.part_twice": (
        "`{owner}` has two {what}", "`{owner}` に{what}が2つあります",
        "second {one}", "2つ目の{one}"),
    "RB311.field_twice": (
        "the field `{field}` is given twice", "フィールド `{field}` が2回書かれています",
        "second value", "2つ目の値"),
    "RB311.stage_twice": (
        "`{rule}` has two stages", "`{rule}` に段階が2つあります",
        "second stage", "2つ目の段階"),
    "RB311.where_twice": (
        "`{rule}` has two `where` lines", "`{rule}` に `where` の行が2つあります",
        "second `where`", "2つ目の `where`",
        "join the conditions with `and`", "条件を `and` でつないでください"),
    "RB311.each_day_twice": (
        "`{rule}` has two `each day` lines", "`{rule}` に `each day` の行が2つあります",
        "second `each day`", "2つ目の `each day`"),
    "RB311.group_by_twice": (
        "`{rule}` has two `group by` lines", "`{rule}` に `group by` の行が2つあります",
        "second `group by`", "2つ目の `group by`",
        "give every key in one `group by`, apart by commas", "キーはすべて1つの `group by` にカンマで区切って書いてください"),
    "RB311.fixes_twice": (
        "`{rule}` has two fixes in one clause", "`{rule}` の1つの節に対応が2つあります",
        "second fix", "2つ目の対応"),
    "RB311.due_twice": (
        "`{rule}` has two due dates in one clause", "`{rule}` の1つの節に期日が2つあります",
        "second due date", "2つ目の期日"),
    "RB311.titles_twice": (
        "`{name}` has two titles", "`{name}` に題名が2つあります",
        "second title", "2つ目の題名"),
    "RB312.contains_itself": (
        "record `{record}` contains itself: {path}", "レコード `{record}` が自分自身を含んでいます: {path}",
        "leads back to `{record}`", "`{record}` に戻ります",
        "a snapshot is a tree of records: hold the other record's id (a text) here instead",
        "スナップショットはレコードの木です。ここには代わりにもう一方のレコードの ID(文字列)を持たせてください"),
    "RB313.default": (
        "the default does not fit `{type}`", "既定の値が `{type}` に合いません",
        "wrong kind of default", "既定の値の種類が違います"),
    "RB313.one_of": (
        "`one of` takes a list of texts on a text field", "`one of` は文字列のフィールドに文字列のリストで付けます",
        "not a list of texts", "文字列のリストではありません"),
    "RB313.numbered_by": (
        "`numbered by` goes on a list of records", "`numbered by` はレコードのリストに付けます",
        "not a list of records", "レコードのリストではありません"),
    "RB313.not_before": (
        "`not before` goes on a date field", "`not before` は日付のフィールドに付けます",
        "not a date field", "日付のフィールドではありません"),
    "RB313.labels": (
        "`labels` name the values of a text field, not of `{type}`",
        "`labels` が名前を付けるのは文字列のフィールドの値で、`{type}` の値ではありません",
        "not a text field", "文字列のフィールドではありません"),
    "RB314.first_before_step": (
        "`first` goes before `step.…`", "`first` は `step.…` の前に書きます",
        "not a step date", "ステップの日付ではありません"),
    "RB314.payout_subject": (
        "a payout is `on each step` or `on case`", "支払いは `on each step` か `on case` です",
        "not a payout subject", "支払いの対象ではありません"),
    "RB314.results_outside_payout": (
        "results of rules can be read only in a payout", "ルールの結果を読めるのは支払いの中だけです",
        "not in a payout", "支払いの中ではありません"),
    "RB314.parameter_value_only": (
        "{what} can only be a parameter's value", "{what}はパラメータの値にしか書けません",
        "not here", "ここには書けません"),
    "RB314.previous": (
        "`previous` reads an amount of the step before, in `payout on each step`",
        "`previous` は `payout on each step` の中で前のステップの金額を読みます",
        "only in the steps' payout", "ステップの支払いの中だけで使えます"),
    "RB314.total": (
        "`total` sums a step amount, in `payout on case`", "`total` は `payout on case` の中でステップの金額を合計します",
        "only in the case's payout", "ケースの支払いの中だけで使えます"),
    "RB314.spread_needs_days": (
        "`spread over its days` needs the days of each item", "`spread over its days` には各項目の日の範囲が必要です",
        "no days to spread over", "割り振る日がありません",
        "add `each day from FIRST to LAST` to the rule", "ルールに `each day from 最初の日 to 最後の日` を加えてください"),
    "RB314.not_by_day": (
        "`{kind}` is not taken day by day", "`{kind}` は日ごとには求めません",
        "in a rule with `each day`", "`each day` のあるルールの中です",
        "use `sum` or `count`, or group without `each day`", "`sum` か `count` を使うか、`each day` なしでまとめてください"),
    "RB314.finding_due": (
        "a finding has no due date", "指摘には期日がありません",
        "not in a batch rule", "バッチのルールでは使えません",
        "say what to do in the `fix`", "すべきことは `fix` に書いてください"),
    # ------------------------------------------------------------ RB4xx: judging a case
    "RB401.no_value": (
        "parameter `{name}` has no value in force{on}, which rule `{rule}` reads",
        "ルール `{rule}` が読むパラメータ `{name}` に{on}有効な値がありません",
        "", ""),
    "RB402.not_evaluable": (
        "{where} could not be evaluated on this case, judged on {day}: {reason}",
        "{day}に判定したこのケースで、{where} を評価できませんでした: {reason}",
        "", ""),
    "RB402.not_explainable": (
        "rule `{rule}` could not be explained on this case, judged on {day}: {reason}",
        "{day}に判定したこのケースで、ルール `{rule}` の説明を作れませんでした: {reason}",
        "", ""),
    "RB402.not_evaluable_case": (
        "rule `{rule}` could not be evaluated on this case: {reason}",
        "このケースでルール `{rule}` を評価できませんでした: {reason}",
        "", ""),
    "RB402.not_evaluable_group": (
        "rule `{rule}` could not be evaluated on a group of the batch: {reason}",
        "バッチのグループでルール `{rule}` を評価できませんでした: {reason}",
        "", ""),
}

# key: (English, Japanese): the phrases that fill placeholders, and the shared help lines.
WORDS: dict[str, tuple[str, str]] = {
    # shared help lines
    "did_you_mean": ("did you mean `{name}`?", "`{name}` のことですか?"),
    "expected": ("expected {words}", "ここに書けるのは {words} です"),
    "first_is_at": ("the first is at {first}", "1つ目は {first} にあります"),
    "cases_is_count": ("`{name}` is how many cases a group holds", "`{name}` はグループのケースの数です"),
    "give_unit": ("give the number its unit: `… {unit}`", "数に単位を付けてください: `… {unit}`"),
    "write_as": ("write it as `{example}`", "`{example}` のように書いてください"),
    "write_record_as": ("write it as `{{field: value, …}}` with the fields of `{record}`",
                        "`{record}` のフィールドで `{{フィールド: 値, …}}` のように書いてください"),
    # what the parser expected
    "a name": ("a name", "名前"),
    "a text in double quotes": ("a text in double quotes", "二重引用符で囲んだ文字列"),
    "a number": ("a number", "数"),
    "a date (YYYY-MM-DD)": ("a date (YYYY-MM-DD)", "日付(YYYY-MM-DD)"),
    "a percentage": ("a percentage", "百分率"),
    "a rule id such as `step.photos`": ("a rule id such as `step.photos`", "`step.photos` のようなルール ID"),
    "a comparison (=, !=, <, <=, >, >=)": ("a comparison (=, !=, <, <=, >, >=)", "比較(=, !=, <, <=, >, >=)"),
    # what a text or an expression is for (the checker's `what`)
    "title": ("title", "題名"),
    "titles": ("titles", "題名"),
    "source": ("source", "出典"),
    "sources": ("sources", "出典"),
    "stage": ("stage", "段階"),
    "stages": ("stages", "段階"),
    "message": ("message", "メッセージ"),
    "messages": ("messages", "メッセージ"),
    "fix": ("fix", "対応"),
    "parameters date": ("parameters date", "パラメータの日付"),
    "parameters dates": ("parameters dates", "パラメータの日付"),
    "effective period": ("effective period", "有効期間"),
    "effective periods": ("effective periods", "有効期間"),
    "label_of": ("label of `{value}`", "`{value}` の表示名"),
    "the parameters' date": ("the parameters' date", "パラメータの日付"),
    "the step number": ("the step number", "ステップの番号"),
    "a condition": ("a condition", "条件"),
    "a due date": ("a due date", "期日"),
    "an interpolation": ("an interpolation", "埋め込み"),
    "an amount": ("an amount", "金額"),
    "a day of an item's range": ("a day of an item's range", "項目の範囲の日"),
    "a key": ("a key", "キー"),
    "a figure": ("a figure", "集計値"),
    "this value": ("this value", "この値"),
    "a record": ("a record", "レコード"),
    "a table": ("a table", "表"),
    # what a name already is (RB204)
    "field of the case": ("field of the case", "ケースのフィールド"),
    "parameter": ("parameter", "パラメータ"),
    "built-in name": ("built-in name", "組み込み"),
    # arithmetic (RB301)
    "add": ("add", "足し算"),
    "subtract": ("subtract", "引き算"),
    "multiply": ("multiply", "掛け算"),
    "divide": ("divide", "割り算"),
    # what a figure does (RB301)
    "added up": ("added up", "合計する"),
    "spread over days": ("spread over days", "日に割り振る"),
    "compared": ("compared", "比べる"),
    # the rest of RB402
    "the payout": ("the payout", "支払い"),
    "rule_named": ("rule `{rule}`", "ルール `{rule}`"),
    "division by zero": ("division by zero", "ゼロでの割り算"),
    "on_day": (" on {day}", "{day}に"),
    # the count line under a rulebook's diagnostics
    "errors_in_rulebook": ("{count} error{s} in the rulebook", "ルールブックに{count}件のエラーがあります"),
    "help": ("help", "ヒント"),
}


def entry(code: str, key: str) -> dict[str, tuple[str, str]]:
    """The texts of diagnostic `code.key`: {part: (en, ja)} for its message, label and help."""
    texts = _DIAGNOSTICS[f"{code}.{key}"]
    return {part: (texts[i], texts[i + 1]) for part, i in zip(PARTS, range(0, len(texts), 2))}


def parts(code: str, key: str, values: dict[str, Any]) -> dict[str, Message]:
    """Diagnostic `code.key`'s message, label and help (where it has one), filled in."""
    return {part: fill(en, ja, values) for part, (en, ja) in entry(code, key).items()}


def word(key: str, /, **values: Any) -> Message:
    """A phrase of `WORDS`, filled in, in both languages."""
    return fill(*WORDS[key], values)


def keys() -> list[str]:
    """Every diagnostic's key, `CODE.key`."""
    return list(_DIAGNOSTICS)


__all__ = ["PARTS", "WORDS", "entry", "keys", "parts", "word"]
