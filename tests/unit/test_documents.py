"""Behaviour of rulebook.input.documents: safe reading of case snapshot files."""

from __future__ import annotations

import datetime
import gzip
import io
import reprlib
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rulebook.input import documents
from rulebook.input.documents import (
    Document,
    DocumentError,
    Limits,
    Location,
    load_bytes,
    load_path,
    load_paths,
    load_stream,
    read_text,
)

BOM = b"\xef\xbb\xbf"


def load(data: bytes, origin: str = "case.yaml", kind: str | None = None, **limits: int) -> list[Document]:
    return list(load_bytes(data, origin, kind, Limits(**limits)))


def only_error(docs: list[Document]) -> Document:
    errors = [doc for doc in docs if not doc.ok]
    # (a short summary: printing the documents of a failed bomb test could hang)
    assert len(errors) == 1, [(str(d.location), d.error or reprlib.repr(d.data)) for d in docs]
    return errors[0]


def assert_clean_message(message: str) -> None:
    assert "\n" not in message
    assert message[0].islower() or message.startswith(("YAML", "JSON", "`")), message
    for word in ("Traceback", "Error", "Exception", "Node(", "object at 0x", "NoneType", "dict", "str'"):
        assert word not in message, message


# The YAML safety tests run against both backends: libyaml (the default when
# available) and the pure-Python scanner and parser.
BACKENDS = ["python"] + (["libyaml"] if hasattr(documents.yaml, "CYAML") else [])


@pytest.fixture(params=BACKENDS)
def yaml_backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    loader = documents.yaml.PyYAML if request.param == "python" else documents.yaml.CYAML
    monkeypatch.setattr(documents.yaml, "Loader", loader)
    return request.param


# --------------------------------------------------------------------------
# Data types
# --------------------------------------------------------------------------


def test_location_str_with_and_without_column() -> None:
    assert str(Location("a.yaml", 3)) == "a.yaml:3"
    assert str(Location("a.yaml", 3, 7)) == "a.yaml:3:7"


def test_document_ok_and_frozen() -> None:
    good = Document(Location("x", 1), {"a": 1})
    bad = Document(Location("x", 1), error="broken")
    assert good.ok and not bad.ok
    with pytest.raises(AttributeError):
        good.data = 2  # type: ignore[misc]


def test_limits_defaults_and_validation() -> None:
    limits = Limits()
    assert limits.max_file_bytes == 16 * 1024 * 1024
    assert limits.max_line_bytes == 1024 * 1024
    assert (limits.max_depth, limits.max_nodes, limits.max_aliases) == (64, 100_000, 100)
    assert (limits.max_int_digits, limits.max_string_chars) == (30, 100_000)
    with pytest.raises(ValueError):
        Limits(max_depth=0)


def test_unknown_kind_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        load_bytes(b"a: 1", "x", "toml")


# --------------------------------------------------------------------------
# Good input
# --------------------------------------------------------------------------

GOOD = [
    ("case.yaml", b"name: acme\nemployees: 12\n", [(1, {"name": "acme", "employees": 12})]),
    ("case.yml", BOM + b"name: acme\n", [(1, {"name": "acme"})]),
    ("case.yaml", b"# header\n\nname: acme\n", [(3, {"name": "acme"})]),
    ("case.json", b'{"name": "acme", "grants": [1.5, 2]}', [(1, {"name": "acme", "grants": [1.5, 2]})]),
    ("case.json", BOM + b'{"name": "\xc3\xa9"}\n', [(1, {"name": "é"})]),
    ("case.json", b"[1, 2, 3]", [(1, [1, 2, 3])]),
    ("cases.jsonl", b'{"a": 1}\n{"a": 2}\n', [(1, {"a": 1}), (2, {"a": 2})]),
    ("cases.ndjson", BOM + b'{"a": 1}\r\n\r\n  \n{"a": 2}', [(1, {"a": 1}), (4, {"a": 2})]),
    ("CASES.JSONL", b'"text"\n3\n', [(1, "text"), (2, 3)]),
    # no known suffix: sniffed
    ("<stdin>", b'{"a": 1}\n{"a": 2}\n', [(1, {"a": 1}), (2, {"a": 2})]),
    ("<stdin>", b'\n  {"a": 1}\n\n{"a": 2}\n', [(2, {"a": 1}), (4, {"a": 2})]),
    ("<stdin>", b'{"a": 1}\n', [(1, {"a": 1})]),
    ("<stdin>", b"{\n  \"a\": 1\n}\n", [(1, {"a": 1})]),
    ("<stdin>", b"a: 1\n", [(1, {"a": 1})]),
]


@pytest.mark.parametrize(("origin", "data", "expected"), GOOD)
def test_good_input(origin: str, data: bytes, expected: list) -> None:
    docs = load(data, origin)
    assert all(doc.ok for doc in docs), docs
    assert [(doc.location.line, doc.data) for doc in docs] == expected
    assert all(doc.location.origin == origin for doc in docs)


@pytest.mark.parametrize("kind", ["yaml", "json", "jsonl"])
def test_explicit_kind_beats_suffix(kind: str) -> None:
    docs = load(b'{"a": [1, 2]}\n', "weird.txt", kind)
    assert [doc.data for doc in docs] == [{"a": [1, 2]}]


def test_multi_document_yaml_start_lines() -> None:
    text = (
        b"# cases\n"  # 1
        b"---\n"  # 2
        b"id: 1\n"  # 3
        b"---\n"  # 4
        b"# only a comment\n"  # 5
        b"---\n"  # 6
        b"id: 3\n"  # 7
        b"tags: [a, b]\n"  # 8
        b"--- null\n"  # 9
        b"---\n"  # 10
        b"- x\n"  # 11
    )
    docs = load(text)
    assert [(d.location.line, d.data) for d in docs] == [
        (2, {"id": 1}),
        (6, {"id": 3, "tags": ["a", "b"]}),
        (9, None),
        (10, ["x"]),
    ]
    assert all(d.ok for d in docs)


def test_an_error_in_one_yaml_document_does_not_hide_the_next(yaml_backend: str) -> None:
    docs = load(b"a: 1\n---\nb: 1\nb: 2\n---\nc: !!python/object:os.system x\n---\nd: 4\n")
    assert [d.ok for d in docs] == [True, False, False, True]
    assert docs[0].data == {"a": 1}
    assert docs[3].data == {"d": 4}
    assert docs[3].location.line == 7


def test_dates_stay_dates_and_datetimes_stay_text(yaml_backend: str) -> None:
    docs = load(
        b"granted: 2021-01-08\n"
        b"stamp: 2021-01-08 10:30:00\n"
        b"utc: 2021-01-08T10:30:00Z\n"
        b"zoned: 2021-01-08T10:30:00.5+01:00\n"
        b"quoted: '2021-01-08'\n"
    )
    (doc,) = docs
    assert doc.data["granted"] == datetime.date(2021, 1, 8)
    assert type(doc.data["granted"]) is datetime.date
    # Only YYYY-MM-DD is a date (the YAML 1.2 core schema has no timestamps): the rest is text.
    assert doc.data["stamp"] == "2021-01-08 10:30:00"
    assert doc.data["utc"] == "2021-01-08T10:30:00Z"
    assert doc.data["zoned"] == "2021-01-08T10:30:00.5+01:00"
    assert doc.data["quoted"] == "2021-01-08"


def test_small_aliases_work_and_merge_keys_are_refused(yaml_backend: str) -> None:
    (doc,) = load(b"base: &b {x: 1, y: 2}\nitem: *b\nlist: &l [1, 2]\ncopy: *l\n")
    assert doc.data == {"base": {"x": 1, "y": 2}, "item": {"x": 1, "y": 2}, "list": [1, 2], "copy": [1, 2]}
    error = only_error(load(b"base: &b {x: 1, y: 2}\nitem:\n  <<: *b\n  y: 3\n"))  # YAML 1.1 only
    assert "merge keys" in error.error and error.path == "item.<<" and error.location.line == 3


def test_json_lines_from_a_stream() -> None:
    stream = io.BytesIO(b'{"a": 1}\n{"a": 2}\n')
    docs = list(load_stream(stream))
    assert [(d.location.origin, d.location.line, d.data) for d in docs] == [
        ("<stdin>", 1, {"a": 1}),
        ("<stdin>", 2, {"a": 2}),
    ]


# --------------------------------------------------------------------------
# Paths and folders
# --------------------------------------------------------------------------


def test_folder_walk_is_recursive_sorted_and_skips_other_files(tmp_path: Path) -> None:
    files = {
        "b.yaml": b"n: b\n",
        "a.json": b'{"n": "a"}',
        "a/z.yml": b"n: a/z\n",
        "a/m/deep.jsonl": b'{"n": "a/m/deep"}\n',
        "c.jsonl.gz": gzip.compress(b'{"n": "c"}\n'),
        "d.ndjson": b'{"n": "d"}\n',
        "notes.txt": b"not a case",
        "README.md": b"# hello",
        "e.yaml.bak": b"n: skipped\n",
    }
    for name, content in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    docs = list(load_path(tmp_path))
    assert all(d.ok for d in docs), docs
    assert [d.data["n"] for d in docs] == ["a/m/deep", "a/z", "a", "b", "c", "d"]
    assert docs[0].location.origin == str(tmp_path / "a" / "m" / "deep.jsonl")
    # deterministic
    assert list(load_path(str(tmp_path))) == docs


def test_missing_path_is_an_error_document(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    docs = list(load_path(missing))
    error = only_error(docs)
    assert error.location == Location(str(missing), 1)
    assert "does not exist" in error.error and str(missing) in error.error
    assert_clean_message(error.error)


def test_load_paths_keeps_the_given_order(tmp_path: Path) -> None:
    (tmp_path / "one.yaml").write_bytes(b"n: 1\n")
    (tmp_path / "two.json").write_bytes(b'{"n": 2}')
    docs = list(load_paths([tmp_path / "two.json", tmp_path / "missing.yaml", tmp_path / "one.yaml"]))
    assert [d.data["n"] if d.ok else "error" for d in docs] == [2, "error", 1]
    assert [d.data for d in load_paths(str(tmp_path / "one.yaml"))] == [{"n": 1}]


def test_file_with_unknown_suffix_is_sniffed(tmp_path: Path) -> None:
    path = tmp_path / "cases.txt"
    path.write_bytes(b'{"a": 1}\n{"a": 2}\n')
    assert [d.data for d in load_path(path)] == [{"a": 1}, {"a": 2}]


def test_file_too_large_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_bytes(b"a: " + b"x" * 500 + b"\n")
    error = only_error(list(load_path(path, Limits(max_file_bytes=100))))
    assert "larger than 100 bytes" in error.error
    gz_path = tmp_path / "big.json.gz"
    gz_path.write_bytes(gzip.compress(b'["' + b"x" * 5000 + b'"]'))
    error = only_error(list(load_path(gz_path, Limits(max_file_bytes=1000))))
    assert "decompressed" in error.error
    assert_clean_message(error.error)


# --------------------------------------------------------------------------
# Encodings
# --------------------------------------------------------------------------

NOT_UTF8 = [
    ("case.yaml", b"a: 1\nb: caf\xe9\n", 2),
    ("case.json", b'{\n"a":\n "caf\xe9"}', 3),
    ("case.yaml", "a: 1\n".encode("utf-16"), 1),
    ("case.json", '{"a": 1}'.encode("utf-16"), 1),
    ("case.yaml", "a: 1\n".encode("utf-16-le"), 1),  # no byte-order mark: NUL bytes
    ("cases.jsonl", '{"a": 1}\n{"a": 2}\n'.encode("utf-16"), 1),
    ("case.yaml", "a: 1\n".encode("utf-32"), 1),
]


@pytest.mark.parametrize(("origin", "data", "line"), NOT_UTF8)
def test_non_utf8_input_is_refused_with_line(origin: str, data: bytes, line: int) -> None:
    error = only_error(load(data, origin))
    assert error.error.startswith("not UTF-8")
    assert error.error.endswith("save the file as UTF-8")
    assert error.location.line == line
    assert f"line {line}" in error.error


def test_read_text_drops_bom_and_raises_with_location() -> None:
    assert read_text(BOM + b"a: 1", "x.yaml") == "a: 1"
    with pytest.raises(DocumentError) as caught:
        read_text(b"ok\nok\n\xff\xfe", "x.yaml")
    assert caught.value.location == Location("x.yaml", 3, 1)
    assert "not UTF-8" in caught.value.message
    assert str(caught.value).startswith("x.yaml:3:1: ")


def test_byte_order_mark_only_counts_at_the_start_of_json_lines() -> None:
    docs = load(BOM + b'{"a": 1}\n' + BOM + b'{"a": 2}\n', "cases.jsonl")
    assert [d.ok for d in docs] == [True, False]
    assert docs[0].data == {"a": 1}


def test_bad_utf8_in_json_lines_only_spoils_that_line() -> None:
    docs = load(b'{"a": 1}\n{"a": "caf\xe9"}\n{"a": 3}\n', "cases.jsonl")
    assert [d.ok for d in docs] == [True, False, True]
    assert docs[1].location.line == 2 and "not UTF-8" in docs[1].error


# --------------------------------------------------------------------------
# JSON Lines, gzip
# --------------------------------------------------------------------------


def test_broken_json_line_in_the_middle() -> None:
    docs = load(b'{"a": 1}\n{"a": 2}\n{"a": \n{"a": 4}\n', "cases.jsonl")
    assert [d.data for d in docs if d.ok] == [{"a": 1}, {"a": 2}, {"a": 4}]
    error = only_error(docs)
    assert error.location.line == 3
    assert error.error.startswith("line 3 is not valid JSON: ")
    assert [d.location.line for d in docs] == [1, 2, 3, 4]
    assert_clean_message(error.error)


def test_json_error_has_line_and_column() -> None:
    error = only_error(load(b'{\n  "a": 1,\n  x\n}', "case.json"))
    assert (error.location.line, error.location.column) == (3, 3)
    assert error.error.startswith("not valid JSON: ")
    assert_clean_message(error.error)


@pytest.mark.parametrize("data", [b"", b"  \n "])
def test_empty_json_file_is_an_error(data: bytes) -> None:
    assert not only_error(load(data, "case.json")).ok


def test_long_json_line_is_skipped_and_reading_goes_on() -> None:
    data = b'{"a": 1}\n{"b": "' + b"x" * 5000 + b'"}\n{"a": 3}\n'
    docs = load(data, "cases.jsonl", max_line_bytes=1000)
    assert [d.data for d in docs if d.ok] == [{"a": 1}, {"a": 3}]
    error = only_error(docs)
    assert error.location.line == 2
    assert "longer" in error.error or "more than the limit" in error.error
    # a line of exactly the limit is fine, with or without "\r\n"
    exact = b'"' + b"x" * 998 + b'"'
    assert all(d.ok for d in load(exact + b"\r\n" + exact, "cases.jsonl", max_line_bytes=1000))


def test_gzip_json_lines_with_a_line_over_the_limit() -> None:
    data = gzip.compress(b'{"a": 1}\n' + b"y" * 50_000 + b'\n{"a": 3}\n')
    docs = load(data, "cases.jsonl.gz", max_line_bytes=1000)
    assert [d.data for d in docs if d.ok] == [{"a": 1}, {"a": 3}]
    assert only_error(docs).location.line == 2


def test_gzip_bomb_line_is_skipped_in_bounded_memory() -> None:
    data = gzip.compress(b'{"a": 1}\n' + b"z" * 40_000_000 + b'\n{"a": 3}\n', compresslevel=9)
    assert len(data) < 100_000
    tracemalloc.start()
    try:
        docs = load(data, "cases.jsonl.gz")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [d.data for d in docs if d.ok] == [{"a": 1}, {"a": 3}]
    assert only_error(docs).location.line == 2
    assert peak < 8 * 1024 * 1024, peak


def test_gzip_is_recognised_by_its_magic_bytes() -> None:
    docs = load(gzip.compress(b'{"a": 1}\n{"a": 2}\n'), "<stdin>")
    assert [d.data for d in docs] == [{"a": 1}, {"a": 2}]


def test_damaged_gzip_keeps_what_was_read() -> None:
    data = gzip.compress(b'{"a": 1}\n' * 3 + b'{"a": 2}\n' * 5000)
    docs = load(data[: len(data) // 2], "cases.jsonl.gz")
    assert docs[0].data == {"a": 1}
    assert not docs[-1].ok and "damaged" in docs[-1].error
    assert all(d.ok for d in docs[:-1])
    error = only_error(load(b"\x1f\x8bnot really gzip", "cases.jsonl.gz"))
    assert_clean_message(error.error)


# --------------------------------------------------------------------------
# YAML safety
# --------------------------------------------------------------------------


def billion_laughs() -> bytes:
    lines = [b'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    names = "abcdefghij"
    for prev, cur in zip(names, names[1:]):
        refs = ",".join(f"*{prev}" for _ in range(9))
        lines.append(f"{cur}: &{cur} [{refs}]".encode())
    return b"\n".join(lines) + b"\n"


def test_billion_laughs_is_refused(yaml_backend: str) -> None:
    # Refused by counting: the reader stops at the bound of expanded nodes (the message says so)
    # rather than walking a billion; a reader that walked them would hang and meet the test's timeout.
    docs = load(billion_laughs())
    # Only errors and locations are looked at: showing a billion-element
    # structure in a failure report would never finish.
    summary = [(d.error, d.location.column) for d in docs]
    assert len(summary) == 1, summary
    message, column = summary[0]
    assert message is not None and "YAML aliases expand to more than 100,000 nodes" in message, summary
    assert column is not None


def test_too_many_aliases_are_refused(yaml_backend: str) -> None:
    data = b"a: &a x\nb: [" + b", ".join([b"*a"] * 101) + b"]\n"
    error = only_error(load(data))
    assert "more than 100 aliases" in error.error
    assert all(d.ok for d in load(b"a: &a x\nb: [" + b", ".join([b"*a"] * 100) + b"]\n"))


def test_many_plain_values_are_refused_without_blaming_aliases(yaml_backend: str) -> None:
    error = only_error(load(b"[" + b", ".join([b"1"] * 300) + b"]", max_nodes=100))
    assert "more than 100 values" in error.error and "alias" not in error.error


def test_recursive_alias_is_refused(yaml_backend: str) -> None:
    error = only_error(load(b"a: &x [1, *x]\n"))
    assert "recursive" in error.error
    assert (error.location.line, error.location.column) == (1, 11)


def test_undefined_alias_is_refused(yaml_backend: str) -> None:
    assert "*nope" in only_error(load(b"a: *nope\n")).error


TAGS = [
    (b"a: !!python/object:os.system x\n", "!!python/object", (1, 4)),
    (b"a: !!python/object/apply:os.system ['ls']\n", "!!python/object/apply", (1, 4)),
    (b"x: 1\ny: !!python/name:os.system ''\n", "!!python/name", (2, 4)),
    (b"- !!python/tuple [1, 2]\n", "!!python/tuple", (1, 3)),
    (b"a: !custom {b: 1}\n", "!custom", (1, 4)),
    (b"a: !!binary aGVsbG8=\n", "!!binary", (1, 4)),
    (b"a: !!set {x, y}\n", "!!set", (1, 4)),
    (b"a: !!omap [x: 1]\n", "!!omap", (1, 4)),
    (b"%TAG !e! tag:example.com,2000:\n---\na: !e!thing x\n", "tag:example.com,2000:thing", (3, 4)),
]


@pytest.mark.parametrize(("data", "tag", "where"), TAGS)
def test_tags_that_would_build_objects_are_refused(yaml_backend: str, data: bytes, tag: str, where: tuple) -> None:
    error = only_error(load(data))
    assert error.error.startswith(f"tag `{tag}")
    assert "is not allowed" in error.error
    assert (error.location.line, error.location.column) == where
    assert_clean_message(error.error)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"a: !!seq x\n", "tag `!!seq` cannot be used on a single value"),
        (b"a: !!str [1]\n", "tag `!!str` cannot be used on a list"),
        (b"a: !!int {b: 1}\n", "tag `!!int` cannot be used on a mapping"),
    ],
)
def test_standard_tags_on_the_wrong_kind_of_value(yaml_backend: str, data: bytes, message: str) -> None:
    error = only_error(load(data))
    assert error.error == message
    assert (error.location.line, error.location.column) == (1, 4)


DEEP = [
    ("case.yaml", b"[" * 100_000),
    ("case.yaml", b"[" * 100_000 + b"]" * 100_000),
    ("case.yaml", b"- " * 100_000 + b"x"),
    ("case.yaml", b"".join(b"  " * i + b"k:\n" for i in range(200)) + b"  " * 200 + b"v\n"),
    ("case.json", b"[" * 100_000),
    ("case.json", b"[" * 100_000 + b"]" * 100_000),
    ("case.json", b'{"a":' * 100_000 + b"1" + b"}" * 100_000),
    ("cases.jsonl", b"{}\n" + b"[" * 100_000 + b"]" * 100_000 + b"\n{}\n"),
]


@pytest.mark.parametrize(("origin", "data"), DEEP)
def test_deep_nesting_is_refused_without_recursion_error(yaml_backend: str, origin: str, data: bytes) -> None:
    error = only_error(load(data, origin))
    assert "nests deeper than 64 levels" in error.error
    assert_clean_message(error.error)


@pytest.mark.parametrize("origin", ["case.yaml", "case.json", "cases.jsonl"])
@pytest.mark.parametrize(("opening", "closing"), [(b"[", b"]"), (b'{"k": ', b"}")])
def test_nesting_at_the_limit_is_fine(yaml_backend: str, origin: str, opening: bytes, closing: bytes) -> None:
    ok = opening * 64 + b"1" + closing * 64
    assert all(d.ok for d in load(ok, origin))
    error = only_error(load(opening + ok + closing, origin))
    assert "nests deeper than 64 levels" in error.error
    assert error.location.column == 1 + 64 * len(opening)


def test_yaml_alias_cannot_smuggle_depth(yaml_backend: str) -> None:
    deep = b"[" * 40 + b"1" + b"]" * 40
    data = b"a: &d " + deep + b"\nb: " + b"[" * 30 + b"*d" + b"]" * 30 + b"\n"
    assert "nests deeper" in only_error(load(data)).error


HUGE_INTS = [
    ("case.yaml", b"n: " + b"7" * 4000 + b"\n", 4000),
    ("case.yaml", b"n: -" + b"7" * 31 + b"\n", 31),
    ("case.yaml", b"n: 0x" + b"f" * 200 + b"\n", None),
    ("case.json", b'{"n": ' + b"7" * 4000 + b"}", 4000),
    ("case.json", b'{"n": ' + b"7" * 400 + b"}", 400),
    ("case.json", b'{"n": -' + b"7" * 31 + b"}", 31),
    ("cases.jsonl", b'{"n": 1}\n{"n": ' + b"7" * 100 + b"}\n", 100),
]


@pytest.mark.parametrize(("origin", "data", "digits"), HUGE_INTS)
def test_huge_integers_are_refused(yaml_backend: str, origin: str, data: bytes, digits: int | None) -> None:
    error = only_error(load(data, origin))
    assert "too large (at most 30 digits)" in error.error
    if digits is not None:
        assert f"integer with {digits:,} digits" in error.error
    assert_clean_message(error.error)


@pytest.mark.parametrize("origin", ["case.yaml", "case.json", "cases.jsonl"])
def test_big_integers_within_the_limit_stay_exact(yaml_backend: str, origin: str) -> None:
    numbers = [10**29 + 7, -(10**25) - 3, 2**64, -(2**63) - 1, 2**64 - 1]
    body = ", ".join(str(n) for n in numbers).encode()
    (doc,) = load(b"[" + body + b"]", origin)
    assert doc.data == numbers
    assert all(type(n) is int for n in doc.data)


NOT_FINITE = [
    ("case.yaml", b"x: .inf\n"),
    ("case.yaml", b"x: -.Inf\n"),
    ("case.yaml", b"x: .nan\n"),
    ("case.yaml", b"x: !!float nan\n"),
    ("case.yaml", b"x: 1.0e+999\n"),
    ("case.json", b'{"x": 1e999}'),
    ("case.json", b'{"x": -1.5E400}'),
    ("case.json", b'{"x": NaN}'),
    ("case.json", b'{"x": Infinity}'),
    ("cases.jsonl", b'{"x": 1e999}\n'),
]


@pytest.mark.parametrize(("origin", "data"), NOT_FINITE)
def test_infinity_and_nan_are_refused(yaml_backend: str, origin: str, data: bytes) -> None:
    error = only_error(load(data, origin))
    assert error.location.column is not None
    assert_clean_message(error.error)


def test_duplicate_keys_are_refused_with_key_and_lines(yaml_backend: str) -> None:
    error = only_error(load(b"name: a\nsize: 1\nname: b\n"))
    assert error.error.startswith("duplicate key `name` (first at line 1)")
    assert error.path == "name"
    assert (error.location.line, error.location.column) == (3, 1)
    nested = only_error(load(b"top:\n  k: 1\n  k: 2\n"))
    assert "`k`" in nested.error and nested.location.line == 3


NON_STRING_KEYS = [
    (b"1: one\n", "`1`"),
    (b"1.5: x\n", "`1.5`"),
    (b"true: x\n", "`true`"),
    (b"TRUE: push\n", "`TRUE`"),
    (b"null: x\n", "`null`"),
    (b"~: x\n", "`~`"),
    (b"2021-01-08: x\n", "`2021-01-08`"),
    (b"? [a, b]\n: x\n", "list"),
    (b"? {a: b}\n: x\n", "mapping"),
    (b"{? : x}\n", "empty"),
    (b"a:\n  b:\n    7: x\n", "`7`"),
]


@pytest.mark.parametrize(("data", "shown"), NON_STRING_KEYS)
def test_keys_must_be_strings(yaml_backend: str, data: bytes, shown: str) -> None:
    error = only_error(load(data))
    assert shown in error.error
    assert error.location.column is not None
    assert_clean_message(error.error)


def test_quoted_keys_are_strings(yaml_backend: str) -> None:
    (doc,) = load(b"'1': one\n\"on\": push\n!!str 2: two\n")
    assert doc.data == {"1": "one", "on": "push", "2": "two"}


@pytest.mark.parametrize(
    ("origin", "data"),
    [
        ("case.yaml", b"s: " + b"x" * 101 + b"\n"),
        ("case.yaml", b"x" * 101 + b": 1\n"),
        ("case.json", b'{"s": "' + b"x" * 101 + b'"}'),
        ("case.json", b'{"' + b"x" * 101 + b'": 1}'),
        ("cases.jsonl", b'{"s": "' + b"x" * 101 + b'"}\n'),
    ],
)
def test_long_strings_are_refused(yaml_backend: str, origin: str, data: bytes) -> None:
    error = only_error(load(data, origin, max_string_chars=100))
    assert "101 characters is too long" in error.error


@pytest.mark.parametrize(
    "data",
    [
        b"a: [1, 2\nb: 3\n",
        b"a: 'unclosed\n",
        b"a:\n\t- tab\n",
        b"a: b: c\n",
        b"a: \x01\n",
        b"a: !!int nope\n",
        b"a: !!timestamp 2021-13-45\n",
        b"a: !!bool maybe\n",
        b"a: &x 1\nb: &x 2\n",
    ],
)
def test_broken_yaml_gives_a_located_error(yaml_backend: str, data: bytes) -> None:
    error = only_error(load(data))
    assert error.location.line >= 1 and error.location.column is not None
    assert_clean_message(error.error)


def test_an_unquoted_day_not_in_the_calendar_is_left_to_validation(yaml_backend: str) -> None:
    """`as_of: 2021-13-01` reads as the text it is (as in JSON), so that the snapshot's
    validation names its field; a `!!timestamp` tag asked for a date and is refused here."""
    (document,) = load(b"as_of: 2021-13-01\nsteps:\n  - day: 2021-02-30\n    ok: 2021-02-28\n")
    assert document.ok
    assert document.data == {"as_of": "2021-13-01", "steps": [{"day": "2021-02-30", "ok": datetime.date(2021, 2, 28)}]}


# --------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------

SMALL = Limits(
    max_file_bytes=4000,
    max_line_bytes=200,
    max_depth=6,
    max_nodes=100,
    max_aliases=4,
    max_int_digits=5,
    max_string_chars=40,
)
SYNTAX = st.sampled_from(list(b'{}[]:,-&*!"\'\n #0123456789.eE+abxyz\t\r\\?|>%<`~\xff\x00'))


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.one_of(st.binary(max_size=400), st.lists(SYNTAX, max_size=300).map(bytes)),
    kind=st.sampled_from([None, "yaml", "json", "jsonl"]),
    small=st.booleans(),
    backend=st.sampled_from(BACKENDS),
    gz=st.booleans(),
)
def test_any_bytes_give_documents_and_never_raise(
    data: bytes, kind: str | None, small: bool, backend: str, gz: bool
) -> None:
    loader = documents.yaml.PyYAML if backend == "python" else documents.yaml.CYAML
    saved = documents.yaml.Loader
    documents.yaml.Loader = loader
    try:
        if gz:
            data = gzip.compress(data)
        docs = list(load_bytes(data, "x", kind, SMALL if small else Limits()))
    finally:
        documents.yaml.Loader = saved
    for doc in docs:
        assert isinstance(doc, Document)
        assert doc.location.origin == "x" and doc.location.line >= 1
        if not doc.ok:
            assert doc.data is None
            assert_clean_message(doc.error)


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30) + 1, max_value=10**30 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None)
@given(values=st.lists(JSON_VALUES, max_size=5))
def test_json_lines_round_trip(values: list) -> None:
    import json

    data = "\n".join(json.dumps(v) for v in values).encode()
    docs = list(load_bytes(data, "x.jsonl", require_document=False))
    assert [d.data for d in docs] == values
    assert [d.location.line for d in docs] == list(range(1, len(values) + 1))


def test_a_bad_escape_in_text_that_is_not_json_is_refused_not_raised() -> None:
    """Found by schemathesis on POST /v1/check/batch: `{'': "'\\x1f"}` is not JSON, and looking
    for repeated keys in it read `"'\\x1f"` as a JSON string and raised on its escape."""
    import rulebook
    from rulebook.input.documents.json import duplicate_key

    text = '{"\'\\x1f": 1, "\'\\x1f": 2}'  # the same key twice, a bad escape in it
    assert duplicate_key(text) == ("'\\x1f", "'\\x1f", text.rindex('"\''))
    out = rulebook.load().judge(b'{\'\': "\'\\x1f"}')
    assert out["format"] == "rulebook.error/v1"
