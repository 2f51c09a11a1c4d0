"""messages: what rulebook says about bad input, in Japanese and English, from one catalogue.

Every input error — a document that cannot be read, a field that is not valid, an event
that cannot be applied, a request the service refuses — is worded here once, in both
languages, and made with `said(key, **values)`. A `Message` is the English text (it is a
`str`, so existing readers of `message` keep working) carrying its Japanese beside it.
"""

from __future__ import annotations

from typing import Any

from ..language.message import Message, fill

__all__ = ["CATALOGUE", "Message", "said", "quote", "size", "count"]


def quote(text: str, width: int = 40) -> str:
    """User input shown in backticks, shortened and kept on one line."""
    if len(text) > width:
        text = text[:width] + "…"
    text = text.replace("\r", "\\r").replace("\n", "\\n").replace("\t", "\\t").replace("`", "'")
    return f"`{text}`"


def size(n: int) -> str:
    """A number of bytes as a person reads it: 16 MiB, 1,000 bytes."""
    for unit, factor in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= factor and n % factor == 0:
            return f"{n // factor} {unit}"
    return f"{n:,} bytes"


def count(n: int) -> str:
    return f"{n:,}"


# key: (English, Japanese). Values are filled in with str.format; a value that is itself a
# Message is given in the language being written.
CATALOGUE: dict[str, tuple[str, str]] = {
    # ---------------------------------------------------------------- reading a file
    "empty": ("{origin} holds no case snapshot: it is empty or holds only comments",
              "{origin} にはケースのスナップショットがありません(空か、コメントだけです)"),
    "empty_folder": ("no YAML, JSON or JSON Lines file in the folder {origin}",
                     "フォルダ {origin} には YAML・JSON・JSON Lines のファイルがありません"),
    "does_not_exist": ("{path} does not exist", "{path} は存在しません"),
    "broken_link": ("{path} is a link to something that does not exist",
                    "{path} は存在しないものへのリンクです"),
    "invalid_path": ("{path} is not a valid path", "{path} はパスとして正しくありません"),
    "cannot_read": ("cannot read {path}: {reason}", "{path} を読めません: {reason}"),
    "damaged": ("the compressed data is damaged or cut short", "圧縮データが壊れているか、途中で切れています"),
    "damaged_after": ("the compressed data is damaged or cut short after line {line}",
                      "圧縮データが{line}行目のあとで壊れているか、途中で切れています"),
    "file_too_large": ("the file is larger than {limit}, the limit for one {kind} file; split it, or use JSON Lines",
                       "ファイルが{kind}ファイル1つの上限 {limit} を超えています。分けるか、JSON Lines にしてください"),
    "file_too_large_unpacked": (
        "the file is larger than {limit} once decompressed, the limit for one {kind} file; "
        "split it, or use JSON Lines",
        "ファイルが展開後に{kind}ファイル1つの上限 {limit} を超えています。分けるか、JSON Lines にしてください"),
    "line_too_long": ("line {line} is {length} long, more than the limit of {limit}; it was skipped",
                      "{line}行目の長さが {length} で、1行の上限 {limit} を超えているため読み飛ばしました"),
    "not_utf8_bom": ("not UTF-8: found a {encoding} byte-order mark at line {line}; save the file as UTF-8",
                     "UTF-8 ではありません: {line}行目に {encoding} のバイト順マークがあります。UTF-8 で保存してください"),
    "not_utf8_byte": ("not UTF-8: byte 0x{byte} at line {line}; save the file as UTF-8",
                      "UTF-8 ではありません: {line}行目にバイト 0x{byte} があります。UTF-8 で保存してください"),
    "not_utf8_nul": ("not UTF-8: found a NUL character at line {line} (is the file UTF-16?); save the file as UTF-8",
                     "UTF-8 ではありません: {line}行目に NUL 文字があります(UTF-16 のファイルでは?)。"
                     "UTF-8 で保存してください"),
    "on_line": ("line {line}: {message}", "{line}行目: {message}"),
    "too_deep": ("the {kind} document nests deeper than {limit} levels",
                 "{kind} の入れ子が{limit}段より深くなっています"),
    "int_too_large": ("integer with {digits} digits is too large (at most {limit} digits)",
                      "{digits}桁の整数は大きすぎます(最大{limit}桁)"),
    "number_infinite": ("number {token} is too large (it would be infinite)",
                        "数値 {token} は大きすぎます(無限大になります)"),
    "text_too_long": ("text of {chars} characters is too long (at most {limit} characters)",
                      "{chars}文字の文字列は長すぎます(最大{limit}文字)"),
    "duplicate_key": ("duplicate key {key}: a key appears once in a mapping, or the value is ambiguous",
                      "キー {key} が重複しています。どちらの値か決められないため、キーは1つの対応付けに1回だけ書いてください"),
    "duplicate_key_at": ("duplicate key {key} (first at line {first}): a key appears once in a mapping, "
                         "or the value is ambiguous",
                         "キー {key} が重複しています(最初は{first}行目)。どちらの値か決められないため、"
                         "キーは1つの対応付けに1回だけ書いてください"),
    # ---------------------------------------------------------------- JSON
    "json_invalid": ("not valid JSON: {reason} at line {line}, column {column}",
                     "JSON として読めません: {reason}({line}行{column}列)"),
    "json_line_invalid": ("line {line} is not valid JSON: {reason} at column {column}",
                          "{line}行目は JSON として読めません: {reason}({column}列)"),
    "json_text_invalid": ("not valid JSON: {reason}", "JSON として読めません: {reason}"),
    # ---------------------------------------------------------------- YAML
    "yaml_invalid": ("not valid YAML: {reason}", "YAML として読めません: {reason}"),
    "yaml_control": ("the control character U+{code} at line {line} is not allowed in YAML",
                     "{line}行目の制御文字 U+{code} は YAML では使えません"),
    "yaml_expands": ("YAML aliases expand to more than {limit} nodes; aliases are limited to protect the reader",
                     "YAML のエイリアスが展開すると{limit}個を超える値になります。読み手を守るためエイリアスは制限しています"),
    "yaml_too_many": ("the YAML document has more than {limit} values; documents are limited to protect the reader",
                      "YAML 文書の値が{limit}個を超えています。読み手を守るため文書の大きさは制限しています"),
    "yaml_aliases": ("the YAML document uses more than {limit} aliases; aliases are limited to protect the reader",
                     "YAML 文書のエイリアスが{limit}個を超えています。読み手を守るためエイリアスは制限しています"),
    "yaml_alias_unknown": ("alias {alias} is used but no anchor {anchor} comes before it",
                           "エイリアス {alias} の前にアンカー {anchor} がありません"),
    "yaml_alias_recursive": ("alias {alias} refers to a value that contains it; recursive aliases are not allowed",
                             "エイリアス {alias} が自分を含む値を指しています。再帰するエイリアスは使えません"),
    "yaml_tag_misplaced": ("tag {tag} cannot be used on {what}", "タグ {tag} は{what}には使えません"),
    "yaml_tag": ("tag {tag} is not allowed", "タグ {tag} は使えません"),
    "yaml_key_collection": ("a mapping key is {kind}; keys must be strings",
                            "対応付けのキーが{kind}になっています。キーは文字列にしてください"),
    "yaml_key_empty": ("a mapping key is empty; keys must be strings",
                       "対応付けのキーが空です。キーは文字列にしてください"),
    "yaml_key_not_text": ("mapping key {key} is {what}, not a string; put it in quotes",
                          "対応付けのキー {key} は文字列ではなく{what}として読まれます。引用符で囲んでください"),
    "yaml_merge": ("merge keys (`<<`) are YAML 1.1 and are not read (YAML 1.2 has none); write the fields out",
                   "マージキー(`<<`)は YAML 1.1 の書き方で、読みません(YAML 1.2 にはありません)。項目をそのまま書いてください"),
    "yaml_not_bool": ("{value} is not true or false", "{value} は true でも false でもありません"),
    "yaml_not_int": ("{value} is not a valid integer", "{value} は整数として正しくありません"),
    "yaml_not_number": ("{value} is not a valid number", "{value} は数値として正しくありません"),
    "yaml_not_finite": ("number {value} is not finite; infinity and not-a-number are not allowed",
                        "数値 {value} は有限ではありません。無限大や非数は使えません"),
    "yaml_not_date": ("{value} is not a valid date (YYYY-MM-DD)", "{value} は日付(YYYY-MM-DD)として正しくありません"),
    # ---------------------------------------------------------------- the snapshot's fields
    "required": ("required, but missing", "必須の項目がありません"),
    "whole_number": ("expected a whole number", "整数を書いてください"),
    "whole_number_not_float": ("expected a whole number; money and counts are never floats",
                               "整数を書いてください。金額や数は小数にしません"),
    "text": ("expected text (in quotes)", "文字列(引用符で囲む)を書いてください"),
    "date_no_such_day": ("no such day in the calendar (a date as YYYY-MM-DD)",
                         "暦にない日付です(日付は YYYY-MM-DD)"),
    "date": ("expected a date as YYYY-MM-DD", "日付を YYYY-MM-DD の形で書いてください"),
    "boolean": ("expected true or false", "true か false を書いてください"),
    "boolean_not_word": ("expected true or false; {value} is text in YAML 1.2 (and in JSON)",
                         "true か false を書いてください。{value} は YAML 1.2(と JSON)では文字列です"),
    "at_least": ("must be at least {limit}", "{limit}以上にしてください"),
    "more_than": ("must be more than {limit}", "{limit}より大きくしてください"),
    "decimals": ("at most {places} decimals", "小数は{places}桁までにしてください"),
    "one_of": ("expected one of {choices}", "次のどれかを書いてください: {choices}"),
    "list": ("expected a list", "リストを書いてください"),
    "mapping": ("expected a mapping of fields", "項目の対応付けを書いてください"),
    "not_blank": ("must not be blank", "空にはできません"),
    "identifier_control": ("an identifier holds no control or bidirectional formatting characters; "
                           "found U+{code}",
                           "識別子に制御文字や双方向書式文字は使えません(U+{code} があります)"),
    "finite": ("expected a finite number", "有限の数値を書いてください"),
    "number": ("expected a number", "数値を書いてください"),
    "hours": ("expected a number of hours as a decimal, such as 1.5 for an hour and a half "
              "(1:30 is not read as a time)",
              "時間数は 1.5(1時間30分)のように10進数で書いてください(1:30 のような時刻の形は読みません)"),
    "invalid": ("invalid value ({reason})", "値が正しくありません({reason})"),
    "not_before": ("comes before {other} ({day})", "{other}({day})より前になっています"),
    "numbered": ("items are numbered 1, 2, 3… in list order without gaps or repeats: expected {number}",
                 "項目はリストの順に 1, 2, 3… と抜けや重複なく番号を付けます: ここは {number} です"),
    "not_a_mapping": ("a snapshot is a mapping of fields", "スナップショットは項目の対応付けです"),
    "null_document": ("the document is empty (null); a snapshot is a mapping of fields",
                      "文書が空(null)です。スナップショットは項目の対応付けです"),
    "not_snapshot_data": ("a value of kind {kind} is not snapshot data", "{kind} の値はスナップショットのデータになりません"),
    "unknown_field": ("unknown field {path} was kept but not judged",
                      "未知の項目 {path} は残しましたが、判定には使っていません"),
    "unknown_field_hint": ("unknown field {path} was kept but not judged; did you mean {name}?",
                           "未知の項目 {path} は残しましたが、判定には使っていません。{name} のことですか?"),
    "not_judged": ("the rulebook could not judge this case: {reason} [{code}]",
                   "ルールブックはこのケースを判定できませんでした: {reason} [{code}]"),
    "not_judged_on": ("the rulebook could not judge this case on {day}: {reason} [{code}]",
                      "ルールブックはこのケースを{day}の時点で判定できませんでした: {reason} [{code}]"),
    # ---------------------------------------------------------------- case events (watch)
    "event_not_object": ("an event is a JSON object, not {kind}", "イベントは JSON オブジェクトです({kind}ではなく)"),
    "event_unknown_key": ("unknown key in an event (an event has case_id, at, and set or snapshot)",
                          "イベントに未知のキーがあります(イベントのキーは case_id・at と、set か snapshot です)"),
    "event_unknown_key_hint": ("unknown key in an event; did you mean {name}? "
                               "(an event has case_id, at, and set or snapshot)",
                               "イベントに未知のキーがあります。{name} のことですか?"
                               "(イベントのキーは case_id・at と、set か snapshot です)"),
    "event_case_id": ("an event needs the case_id it is about, as text",
                      "イベントには対象の case_id を文字列で書いてください"),
    "event_at": ("when the event happened: expected a date such as 2021-02-08 or a date and time such as "
                 "2021-02-08T09:30:00+09:00",
                 "イベントの日時: 2021-02-08 のような日付か、2021-02-08T09:30:00+09:00 のような日時を書いてください"),
    "event_at_no_such_time": ("when the event happened: no such day or time in the calendar",
                              "イベントの日時: 暦にない日付か時刻です"),
    "event_needs_change": ("an event needs `set` (field paths and their new values) or `snapshot`",
                           "イベントには `set`(項目のパスと新しい値)か `snapshot` が必要です"),
    "event_snapshot_not_object": ("a snapshot is a JSON object, not {kind}",
                                  "スナップショットは JSON オブジェクトです({kind}ではなく)"),
    "event_other_case": ("the snapshot is of another case than {case_id}",
                         "スナップショットが {case_id} とは別のケースのものです"),
    "event_set_not_mapping": ("`set` maps field paths to values, not {kind}",
                              "`set` は項目のパスと値の対応付けです({kind}ではなく)"),
    "event_case_id_fixed": ("the case_id of a case cannot change", "ケースの case_id は変えられません"),
    "event_out_of_order": ("out of order: the log has already reached {moment}",
                           "順序が逆です: ログはすでに {moment} まで進んでいます"),
    "event_unknown_case": ("unknown case: its first event must carry its `snapshot`",
                           "未知のケースです: 最初のイベントには `snapshot` が必要です"),
    "path_syntax": ("{path} is not a field path such as `steps[0].hours`",
                    "{path} は `steps[0].hours` のような項目のパスではありません"),
    "path_not_list": ("{path} is not a list", "{path} はリストではありません"),
    "path_no_fields": ("{path} has no fields", "{path} には項目がありません"),
    "path_unknown": ("unknown field {name} in {where}", "{where}に項目 {name} はありません"),
    "path_unknown_hint": ("unknown field {name} in {where}; did you mean {hint}?",
                          "{where}に項目 {name} はありません。{hint} のことですか?"),
    "the_snapshot": ("the snapshot", "スナップショット"),
    "path_no_item": ("{path}: there is no item {index}", "{path}: {index}番目の項目はありません"),
    "path_no_item_to_enter": ("{path}: there is no item {index} to go into",
                              "{path}: 中に入る{index}番目の項目がありません"),
    "path_not_in_mapping": ("{path}: {name} is not inside a mapping", "{path}: {name} は対応付けの中にありません"),
    # ---------------------------------------------------------------- the HTTP service
    "api_key": ("an API key is needed: send it as `X-API-Key` or `Authorization: Bearer …`",
                "API キーが必要です: `X-API-Key` か `Authorization: Bearer …` で送ってください"),
    "no_route": ("no such route: {method} {path}", "そのような経路はありません: {method} {path}"),
    "method_not_allowed": ("{method} is not allowed on {path}", "{path} には {method} は使えません"),
    "http": ("the request was refused: {reason}", "リクエストを受け付けられません: {reason}"),
    "bad_parameter": ("bad request parameter {name}: {reason}", "リクエストのパラメータ {name} が正しくありません: {reason}"),
    "internal": ("internal error; the request can be sent again",
                 "内部エラーです。リクエストはもう一度送れます"),
    "not_a_day": ("{value} is not a day (YYYY-MM-DD)", "{value} は日付(YYYY-MM-DD)ではありません"),
    "body_too_large": ("the snapshot is larger than {limit} bytes", "スナップショットが {limit} バイトを超えています"),
    "one_yaml_document": ("send exactly one YAML document", "YAML 文書はちょうど1つ送ってください"),
    "no_line": ("the body holds no line: send one JSON snapshot a line",
                "本文に行がありません: 1行に1つ JSON のスナップショットを送ってください"),
    "request_line_too_long": ("line {line} is longer than {limit} bytes", "{line}行目が {limit} バイトを超えています"),
}

# The words a message puts in its values, in both languages.
WORDS: dict[str, tuple[str, str]] = {
    "a_single_value": ("a single value", "単一の値"),
    "a_list": ("a list", "リスト"),
    "a_mapping": ("a mapping", "対応付け"),
    "text_kind": ("text", "文字列"),
    "true_false": ("true/false", "true/false"),
    "a_number": ("a number", "数値"),
    "null": ("null", "null"),
    "empty_null": ("empty (null)", "空(null)"),
    "read_as_bool": ("read as true/false", "true/false"),
    "a_date": ("a date", "日付"),
    "not_a_string": ("not a string", "文字列以外"),
}

# The operating system's reasons, for the common ones (others are given as the system says).
_OS_REASONS: dict[str, str] = {
    "permission denied": "権限がありません",
    "no such file or directory": "ファイルもフォルダもありません",
    "is a directory": "フォルダです",
    "not a directory": "フォルダではありません",
    "too many levels of symbolic links": "シンボリックリンクが深すぎます",
    "file name too long": "ファイル名が長すぎます",
    "input/output error": "入出力エラーです",
    "no space left on device": "デバイスに空きがありません",
}


def said(key: str, /, **values: Any) -> Message:
    """The catalogue's message `key`, with its values filled in, in both languages."""
    return fill(*CATALOGUE[key], values)


def word(key: str) -> Message:
    en, ja = WORDS[key]
    return Message(en, ja)


def os_reason(text: str) -> Message:
    """An operating system's reason (English), with its Japanese where known."""
    text = " ".join(str(text).split())
    if text[:1].isupper() and not text[1:2].isupper():
        text = text[0].lower() + text[1:]
    return Message(text, _OS_REASONS.get(text, text))


def plain(en: str, ja: str | None = None) -> Message:
    """A text from elsewhere (a parser's reason, a library's message): English, and Japanese if known."""
    return Message(en, en if ja is None else ja)
