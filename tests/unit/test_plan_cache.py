"""book's plan cache: plain JSON, trusted as OpenSSH trusts a key file, never a pickle.

The cache saves the parser on a second start; a cache file is used only where it and its
folder belong to the user (the effective uid) and no one else can write to them. Anything
else is ignored with one warning (ja and en) on stderr, and the plan is built again.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import rulebook
from rulebook import book as book_module
from rulebook.engine import planjson

from ..conftest import EXAMPLES

SEED = yaml.safe_load((EXAMPLES / "seed-case.yaml").read_text(encoding="utf-8"))


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """A fresh cache folder of this user's, as rulebook makes it; the warning not yet given."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("RULEBOOK_CACHE", str(folder))
    monkeypatch.setattr(book_module, "_warned", [])
    return folder


def cache_file(folder: Path) -> Path:
    [path] = folder.glob("*.json")
    return path


def warm(folder: Path) -> tuple[Path, bytes]:
    rulebook.load()
    path = cache_file(folder)
    return path, path.read_bytes()


def test_the_cache_is_plain_json_in_a_private_folder(cache):
    path, data = warm(cache)
    document = json.loads(data)
    assert document["format"] == planjson.FORMAT
    assert stat.S_IMODE(os.stat(cache).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert not list(cache.glob("*.pickle"))


def test_plan_and_schema_come_back_equal_and_the_bytes_are_deterministic(cache):
    plan, schema = book_module.build(book_module.read_sources(book_module.bundled_rules(), "rules")[0])
    fingerprint = book_module._engine_fingerprint()
    data = planjson.dumps(plan, schema, fingerprint)
    again, again_schema = planjson.loads(data, fingerprint)
    assert again == plan and again_schema == schema
    assert planjson.dumps(again, again_schema, fingerprint) == data
    with pytest.raises(planjson.PlanFileError):
        planjson.loads(data, "another-engine")


def test_a_second_start_uses_the_cache_and_does_not_load_the_parser(cache, tmp_path):
    probe = ("import sys, rulebook; rulebook.load(); "
             "print(any(m == 'lark' or m.startswith('lark.') for m in sys.modules), "
             "'rulebook.language.parse' in sys.modules)")
    env = dict(os.environ, RULEBOOK_CACHE=str(cache))
    first = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=120)
    second = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=120)
    assert first.stdout.split() == ["True", "True"], first.stderr
    assert second.stdout.split() == ["False", "False"], second.stderr
    assert second.stderr == ""


def assert_ignored_with_one_warning(capsys, book) -> None:
    err = capsys.readouterr().err
    assert "警告: プランのキャッシュ" in err and "warning: the plan cache" in err
    assert err.count("warning:") == 1
    assert book.judge(SEED)["verdict"] == "eligible"


def test_a_cache_file_others_can_write_is_ignored_with_a_warning(cache, capsys, monkeypatch):
    path, _ = warm(cache)
    capsys.readouterr()
    os.chmod(path, 0o664)
    built = []
    monkeypatch.setattr(book_module, "build", lambda sources, _b=book_module.build: built.append(1) or _b(sources))
    book = rulebook.load()
    assert built == [1]  # built from the rule files, not read from the cache
    assert_ignored_with_one_warning(capsys, book)
    rulebook.load()  # the warning is given once
    assert "warning" not in capsys.readouterr().err


def test_a_cache_folder_others_can_write_is_ignored_and_not_written(cache, capsys, monkeypatch):
    path, _ = warm(cache)
    capsys.readouterr()
    os.chmod(cache, 0o777)
    path.unlink()
    built = []
    monkeypatch.setattr(book_module, "build", lambda sources, _b=book_module.build: built.append(1) or _b(sources))
    book = rulebook.load()
    assert built == [1]
    assert_ignored_with_one_warning(capsys, book)
    assert not list(cache.glob("*.json"))  # nothing written where others could have changed it


def test_a_cache_of_another_owner_is_ignored(cache, capsys, monkeypatch):
    warm(cache)
    capsys.readouterr()
    owner = os.stat(cache).st_uid
    monkeypatch.setattr(book_module.os, "geteuid", lambda: owner + 1)
    built = []
    monkeypatch.setattr(book_module, "build", lambda sources, _b=book_module.build: built.append(1) or _b(sources))
    book = rulebook.load()
    assert built == [1]
    assert_ignored_with_one_warning(capsys, book)


def test_the_owner_and_write_bits_decide_trust():
    mine = os.geteuid()

    def status(uid: int, mode: int) -> os.stat_result:
        return os.stat_result((stat.S_IFREG | mode, 0, 0, 1, uid, 0, 0, 0, 0, 0))

    assert book_module._distrust(status(mine, 0o600)) is None
    assert book_module._distrust(status(mine, 0o644)) is None
    assert book_module._distrust(status(mine + 1, 0o600)) == "owner"
    assert book_module._distrust(status(mine, 0o620)) == "writable"
    assert book_module._distrust(status(mine, 0o602)) == "writable"


def test_a_link_in_place_of_the_cache_file_is_ignored(cache, capsys, tmp_path):
    path, data = warm(cache)
    capsys.readouterr()
    elsewhere = tmp_path / "elsewhere.json"
    elsewhere.write_bytes(data)
    path.unlink()
    path.symlink_to(elsewhere)
    assert_ignored_with_one_warning(capsys, rulebook.load())


def test_a_damaged_cache_is_built_again_and_written_over(cache):
    path, data = warm(cache)
    for damaged in (b"", data[: len(data) // 2], b"{}", b'{"format": "rulebook.plan-cache/v1"}',
                    data.replace(b'"$":"Plan"', b'"$":"Popen"')):
        path.write_bytes(damaged)
        assert rulebook.load().judge(SEED)["verdict"] == "eligible"
        assert cache_file(cache).read_bytes() == data


class _Planted:
    """What a pickle can do when it is loaded: here, leave a file behind."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_a_pickle_in_the_cache_is_never_loaded(cache, tmp_path):
    path, data = warm(cache)
    marker = tmp_path / "pickle-ran"
    payload = pickle.dumps(_Planted(marker))
    path.write_bytes(payload)
    path.with_suffix(".pickle").write_bytes(payload)  # where the old cache kept it
    assert rulebook.load().judge(SEED)["verdict"] == "eligible"
    assert not marker.exists()
    assert cache_file(cache).read_bytes() == data


def test_a_cached_module_that_reads_beyond_the_schema_is_not_run(cache, tmp_path):
    """The cache is trusted only when it is the user's own; even so, the generated module in it is
    verified (codegen) before it runs, like a module just generated: an edited one is built again."""
    path, data = warm(cache)
    document = json.loads(data)
    source = document["plan"]["v"]["source"]
    document["plan"]["v"]["source"] = source.replace("c.lancers.method", "c.__class__.__init__", 1)
    assert document["plan"]["v"]["source"] != source
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    assert rulebook.load().judge(SEED)["verdict"] == "eligible"
    assert cache_file(cache).read_bytes() == data


def test_the_same_rule_files_in_another_folder_have_their_own_places(cache, tmp_path):
    """A plan holds each clause's file:line:column: a copy of the rulebook elsewhere, loaded after
    the first has been cached, names its own files (its coverage and diagnostics point there)."""
    first, second = tmp_path / "first", tmp_path / "second"
    for folder in (first, second):
        shutil.copytree(book_module.bundled_rules(), folder, ignore=shutil.ignore_patterns("tests"))
    for folder in (first, second, first):
        book = rulebook.load(folder)
        where = {clause.where.split(":")[0] for rule in book.plan.rules for clause in rule.clauses}
        assert where and all(Path(path).parent == folder for path in where), where
    assert len(list(cache.glob("*.json"))) == 2  # one plan for each place, each used again
    assert rulebook.load(first).digest == rulebook.load(second).digest  # the rulebook is the same


def test_a_check_from_the_cache_imports_neither_the_parser_nor_the_syntax_nor_pydantic(cache):
    """What a second `rulebook check` of a valid case need not load, it does not: the parser
    (lark), the syntax tree and the checker are for building a plan, pydantic for a case the
    decoder cannot read or the JSON Schema. (The cold start's time is `make bench`'s.)"""
    warm(cache)
    probe = ("import sys\nfrom rulebook.apps.cli import main\n"
             "try:\n    main(['check', sys.argv[1]])\nexcept SystemExit:\n    pass\n"
             "loaded = [m for m in ('lark', 'pydantic', 'pydantic_core', 'rulebook.language.syntax',"
             " 'rulebook.language.check', 'rulebook.language.parse', 'rulebook.input.model') if m in sys.modules]\n"
             "print('loaded:', loaded, file=sys.stderr)\n")
    done = subprocess.run([sys.executable, "-c", probe, str(EXAMPLES / "seed-case.yaml")], capture_output=True,
                          text=True, env={**os.environ, "RULEBOOK_CACHE": str(cache)}, check=True)
    assert "判定" in done.stdout
    assert "loaded: []" in done.stderr, done.stderr
    # and a case the decoder cannot read still gets pydantic's reasons, in both languages
    bad = dict(SEED, steps=[dict(SEED["steps"][0], hours="many")])
    (cache.parent / "bad.yaml").write_text(yaml.safe_dump(bad, allow_unicode=True), encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "rulebook.apps.cli", "check", "--format", "json",
                           str(cache.parent / "bad.yaml")], capture_output=True, text=True,
                          env={**os.environ, "RULEBOOK_CACHE": str(cache)})
    [error] = json.loads(done.stdout)["errors"]
    assert error["path"] == "steps[0].hours" and error["messages"]["ja"] and error["messages"]["en"]
