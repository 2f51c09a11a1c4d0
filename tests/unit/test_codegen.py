"""engine/codegen: what generated code can reach, for the bundled rulebook and hostile ones.

A rule file reads only the snapshot (the fields its schema declares), the parameters and the
engine's helpers: every module rulebook generates — the compiled rules, the order checks, the
snapshot's checks, the verdict's texts and compact entries — goes through `codegen.execute`,
and its tree is walked here.
"""

from __future__ import annotations

import ast
import datetime as dt
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

import rulebook
from rulebook.engine import codegen
from rulebook.engine import order
from rulebook.engine.codegen import CodegenError
from rulebook.language.diagnostic import Code, RulebookError

from ..conftest import EXAMPLES

CASES = [EXAMPLES / "seed-case.yaml", EXAMPLES / "failing-case.yaml", EXAMPLES / "pending-case.yaml"]


def executed_modules(monkeypatch) -> list:
    """Records (tree, label) of every module `codegen.execute` runs from now on."""
    seen = []
    original = codegen.execute

    def spy(module, *args, **kwargs):
        tree = ast.parse(module) if isinstance(module, str) else module
        seen.append((tree, kwargs.get("label", "")))
        return original(module, *args, **kwargs)

    monkeypatch.setattr(codegen, "execute", spy)
    order._quick_check.cache_clear()  # kept per graph: make them again
    return seen


def read_attributes(tree: ast.AST) -> set[str]:
    return {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}


def judge_everything(book, snapshots) -> None:
    for snapshot in snapshots:
        book.judge(snapshot)
        book.judge_compact(snapshot)


def assert_reads_only_declared_fields(modules, declared) -> None:
    for tree, label in modules:
        extra = read_attributes(tree) - declared - codegen.METHODS
        assert not extra, f"{label} reads {sorted(extra)}"
        names = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
        assert not {n for n in names if n.startswith("__")}, label
        assert not any(isinstance(node, (ast.Import, ast.ImportFrom, ast.Lambda, ast.ClassDef, ast.While,
                                         ast.JoinedStr, ast.Global))
                       for node in ast.walk(tree)), label


def test_the_bundled_rulebook_generates_code_that_reads_only_declared_fields(monkeypatch):
    modules = executed_modules(monkeypatch)
    book = rulebook.load(cache=False)
    snapshots = [yaml.safe_load(p.read_text(encoding="utf-8")) for p in CASES]
    # and one with dates out of order: the order's checks are made for it (evaluate_case holds
    # the quick check of the bundled graph inlined, and calls them only for such a case)
    late = {**snapshots[0], "consultation": {**snapshots[0]["consultation"], "registered_on": "2021-01-10"}}
    judge_everything(book, snapshots + [late])
    labels = {label.split(" ")[0] for _tree, label in modules}
    # the five places: the rules, their texts, the snapshot's checks, the order check, compact entries
    assert {"rulebook", "snapshot", "order", "compact"} <= labels, labels
    assert any(label.startswith("texts ") for _t, label in modules)
    declared = book.schema.field_names
    assert_reads_only_declared_fields(modules, declared)
    # the declared fields really are read: the walk is not vacuous
    assert {"completion_reported_on", "hours", "steps"} <= read_attributes(ast.parse(book.plan.source))


CASE_RECORD = '''
rulebook "hostile" version "1" title ja "敵" en "Hostile"
  stage s1 title ja "段階" en "Stage"

record case
  format: text, exactly "rulebook.case/v1"
  case_id: text
  as_of: date
'''

HOSTILE_HEADER = CASE_RECORD + '''  get: text
  days: integer
  items: list of item, default empty

record item
  strip: text
  add: integer
'''

HOSTILE_RULES = '''
rule x.names on case
  stage s1
  title ja "__import__('os').system('touch pwned')" en "\\"); import os; (\\""
  source "\\{\\}; __import__('os')"
  let __class__ = days
  let __globals__ = (count __init__ in items where __init__.add > __class__)
  when __globals__ > 0 then fail
    message ja "{__class__}') or __import__('os').system('touch pwned') or ('" en "{get}"
  otherwise pass
    message ja "{get} {__globals__}" en "{__class__}"
'''


def test_a_hostile_rule_file_that_passes_the_checker_reaches_only_declared_fields(tmp_path, monkeypatch):
    """Names that are Python's own (`__class__`, `__init__`, `__globals__`) as lets and loop
    variables, fields named like the helpers' methods (`get`, `days`, `strip`, `add`), code in
    texts: the code made from them reads declared fields and nothing else, and runs as written."""
    (tmp_path / "header.rules").write_text(HOSTILE_HEADER, encoding="utf-8")
    (tmp_path / "rules.rules").write_text(textwrap.dedent(HOSTILE_RULES), encoding="utf-8")
    modules = executed_modules(monkeypatch)
    book = rulebook.load(tmp_path, cache=False)
    snapshot = {"format": "rulebook.case/v1", "case_id": "C1", "as_of": "2021-01-01", "get": "g'\"", "days": 2,
                "items": [{"strip": " x ", "add": 3}, {"strip": "y", "add": 1}]}
    out = book.judge(snapshot)
    judge_everything(book, [snapshot])
    assert out["results"][0]["status"] == "fail"
    assert out["results"][0]["message"]["en"] == "g'\""
    assert out["results"][0]["facts"] == {"days": 2, "__class__": 2, "items": [{"strip": " x ", "add": 3},
                                                                           {"strip": "y", "add": 1}],
                                          "__globals__": 1}
    assert_reads_only_declared_fields(modules, book.schema.field_names)
    assert not (tmp_path / "pwned").exists() and not Path("pwned").exists()


ENVIRONMENT_TRICK = CASE_RECORD + '''  _copy_and_set_values: fn

record fn
  __globals__: table of sys_module by text

record sys_module
  modules: table of os_module by text

record os_module
  environ: table of text by text

rule leak.env on case
  stage s1
  title ja "漏洩" en "Leak"
  source "s"
  let sys = _copy_and_set_values.__globals__["sys"]
  let os = sys.modules["os"]
  let home = os.environ["RULEBOOK_SECRET"] if missing "none"
  when sys is missing then pass
    message ja "x" en "x"
  when os is missing then pass
    message ja "x" en "x"
  otherwise pass
    message ja "SECRET={home}" en "SECRET={home}"
'''


def test_the_environment_trick_is_refused(tmp_path):
    """A chain of lets through a method of the snapshot's model (`_copy_and_set_values`, whose
    `__globals__` hold `sys`) read the process environment into a verdict message; now the
    checker refuses the names (RB209), and `rulebook check` says so without a traceback."""
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "rules.rules").write_text(ENVIRONMENT_TRICK, encoding="utf-8")
    case = tmp_path / "case.json"
    case.write_text('{"format": "rulebook.case/v1", "case_id": "C1", "as_of": "2021-01-01"}', encoding="utf-8")
    with pytest.raises(RulebookError) as caught:
        rulebook.load(rules, cache=False)
    assert {d.code for d in caught.value.diagnostics} == {Code.RESERVED_FIELD}
    assert {d.message.split("`")[1] for d in caught.value.diagnostics} == {"_copy_and_set_values", "__globals__"}
    env = dict(os.environ, RULEBOOK_SECRET="s3cr3t", RULEBOOK_CACHE="off")
    done = subprocess.run([str(Path(sys.executable).with_name("rulebook")), "check", "--rules", str(rules),
                           "--format", "json", str(case)], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 2
    assert "error[RB209]" in done.stderr and "Traceback" not in done.stderr
    assert "s3cr3t" not in done.stdout + done.stderr


@pytest.mark.parametrize("name", ["__init__", "_private", "model_config", "model_fields", "model_dump",
                                  "copy", "json", "schema", "validate", "class", "None"])
def test_reserved_names_cannot_name_a_field(tmp_path, name):
    text = HOSTILE_HEADER.replace("  get: text\n", f"  get: text\n  {name}: optional text\n")
    (tmp_path / "header.rules").write_text(text, encoding="utf-8")
    with pytest.raises(RulebookError) as caught:
        rulebook.load(tmp_path, cache=False)
    assert [d.code for d in caught.value.diagnostics] == [Code.RESERVED_FIELD]


def test_every_attribute_of_the_snapshot_model_is_a_reserved_name():
    from pydantic import BaseModel

    from rulebook.language.schema import reserved

    assert all(reserved(name) for name in dir(BaseModel))
    assert not any(reserved(name) for name in ("steps", "hours", "get", "days", "case_id", "model"))


def test_a_record_that_contains_itself_is_a_diagnostic_not_a_traceback(tmp_path):
    (tmp_path / "r.rules").write_text(HOSTILE_HEADER + '''
record node
  next: optional node
  children: list of node
''', encoding="utf-8")
    with pytest.raises(RulebookError) as caught:
        rulebook.load(tmp_path, cache=False)
    assert [d.code for d in caught.value.diagnostics] == [Code.RECORD_CONTAINS_ITSELF] * 2  # each field
    done = subprocess.run([str(Path(sys.executable).with_name("rulebook")), "rules", "--rules", str(tmp_path)],
                          capture_output=True, text=True, env=dict(os.environ, RULEBOOK_CACHE="off"), timeout=120)
    assert done.returncode == 2 and "error[RB312]" in done.stderr and "Traceback" not in done.stderr


def test_a_circle_through_other_records_is_reported_once(tmp_path):
    (tmp_path / "r.rules").write_text(HOSTILE_HEADER + '''
record alpha
  b: list of beta

record beta
  a: optional alpha
''', encoding="utf-8")
    with pytest.raises(RulebookError) as caught:
        rulebook.load(tmp_path, cache=False)
    [diagnostic] = caught.value.diagnostics
    assert diagnostic.code == Code.RECORD_CONTAINS_ITSELF
    assert "`alpha.b` → `beta.a`" in diagnostic.message


# ------------------------------------------------------------ the verifier


@pytest.mark.parametrize("source", [
    "def f(c):\n    return c.__class__\n",
    "def f(c):\n    return c.model_config\n",  # not declared
    "def f(c):\n    return c.undeclared\n",
    "def f(c):\n    return getattr(c, 'x')\n",  # not a builtin of generated code
    "def f():\n    return open\n",
    "import os\n",
    "def f():\n    return __builtins__\n",
    "def f():\n    return b'bytes'\n",
    "def __class__(c):\n    return c.__class__\n",  # a function named as the attribute it wants
    "def _iter(c):\n    return c._iter\n",
])
def test_execute_refuses_code_that_reaches_beyond_declared_fields_and_helpers(source):
    with pytest.raises(CodegenError):
        codegen.execute(source, fields=("x",))
    with pytest.raises(CodegenError):
        codegen.execute(ast.parse(source), fields=("x",))


@pytest.mark.parametrize("source", [
    "while True:\n    pass\n", "f = lambda: 0\n", "class A:\n    pass\n", "def f(c):\n    c.x = 1\n",
    "def f(c):\n    return f'{c.x}'\n", "def f(c):\n    global g\n", "def f():\n    _K[0] = 1\n",
])
def test_verify_refuses_forms_generated_code_does_not_have(source):
    with pytest.raises(CodegenError):
        codegen.verify(ast.parse(source), fields=("x",))


def test_execute_runs_verified_code_with_its_constants_and_only_the_engine_helpers():
    module = codegen.Module()
    day = module.constant(dt.date(2021, 2, 10))
    assert module.constant(dt.date(2021, 2, 10)) is not day and len(module.constants) == 1  # one entry
    body = [codegen.return_(codegen.tuple_of([
        codegen.field(codegen.name("c"), "x"), day, codegen.call("_days", codegen.literal(3)),
        codegen.call("len", codegen.name("c_items"))]))]
    module.add(codegen.function("f", ["c", "c_items"], body))

    class Case:
        x = "value"

    functions = module.run(fields=("x",))
    assert functions["f"](Case(), [1, 2]) == ("value", dt.date(2021, 2, 10), dt.timedelta(days=3), 2)
    assert set(codegen.BUILTINS) == {"Exception", "any", "all", "sum", "len", "str", "set", "enumerate", "min", "max"}


def test_the_builders_refuse_names_and_values_that_are_not_theirs():
    with pytest.raises(CodegenError):
        codegen.field(codegen.name("c"), "__class__")
    with pytest.raises(CodegenError):
        codegen.method(codegen.name("c"), "format")
    with pytest.raises(CodegenError):
        codegen.literal(dt.date(2021, 1, 1))


def test_generated_code_sets_only_the_declared_fields_it_is_given_leave_to_set():
    def setter(field):
        module = codegen.Module()
        module.add(codegen.function("f", ["o"], [codegen.set_field("o", field, codegen.literal(None))]))
        return module

    class Record:
        x = y = 1

    record = Record()
    setter("x").run(fields=("x", "y"), settable=("x",))["f"](record)
    assert record.x is None
    for field, settable in (("x", ()), ("y", ("x",)), ("get", ("get",)), ("z", ("z",))):
        with pytest.raises(CodegenError):
            setter(field).run(fields=("x", "y"), settable=settable)
    with pytest.raises(CodegenError):  # only a tree, checked node by node, may set a field
        codegen.execute(ast.unparse(setter("x").tree()), fields=("x",), settable=("x",))
    with pytest.raises(CodegenError):
        codegen.set_field("o", "__class__", codegen.literal(None))


def test_a_list_display_spreads_the_items_of_a_list_in_place():
    module = codegen.Module()
    module.add(codegen.function("f", ["a", "b"], [codegen.return_(codegen.list_of(
        [codegen.literal(0), codegen.spread(codegen.name("a")), codegen.spread(codegen.name("b")), codegen.literal(9)]))]))
    assert module.run()["f"]([1, 2], []) == [0, 1, 2, 9]


def test_the_compiled_rules_read_each_record_of_the_snapshot_once_per_case():
    """The records are read into locals at the top of `evaluate_case` (and once more by the order
    check), not at every rule that reads one of their fields; the results are the same."""
    book = rulebook.load()
    case = book.validate(yaml.safe_load((EXAMPLES / "seed-case.yaml").read_text(encoding="utf-8"))).case
    reads: dict[str, int] = {}

    class Counting:
        def __getattr__(self, name):
            reads[name] = reads.get(name, 0) + 1
            return getattr(case, name)

    counted = book._evaluator.evaluate(Counting(), case.as_of)
    assert counted.results == book._evaluator.evaluate(case).results
    assert counted.payout == book._evaluator.evaluate(case).payout
    records = [name for name, f in book.schema.root.fields.items() if f.type.kind == "record"]
    assert all(reads[name] in (1, 2) for name in records), reads  # the rules' read, and the order check's


def test_the_loops_of_the_compiled_rules_run_in_functions_of_their_own():
    """Every quantifier and aggregate of the bundled rulebook runs as a plain loop of its own
    (`_loopN`): no comprehension is left in `evaluate_case`, so none of its locals is a cell and
    no closure is built per case; the same loop written twice is one function."""
    book = rulebook.load()
    tree = ast.parse(book.plan.source)
    functions = {fn.name: fn for fn in tree.body if isinstance(fn, ast.FunctionDef)}
    comprehensions = (ast.ListComp, ast.GeneratorExp, ast.SetComp, ast.DictComp)
    assert not [n for n in ast.walk(functions["evaluate_case"]) if isinstance(n, comprehensions)]
    assert book._evaluator.evaluate_case.__code__.co_cellvars == ()
    loops = [fn for name, fn in functions.items() if name.startswith("_loop")]
    bodies = [ast.dump(ast.Module(fn.body, [])) + repr([a.arg for a in fn.args.args]) for fn in loops]
    assert loops and len(bodies) == len(set(bodies))
