"""What the compiler (engine/compile.py, engine/expressions.py) generates for each construct,
beyond the results that tests/unit/test_language*.py check: a fact that a rule's code has surely
read already is taken from its slot, not read again (`ExpressionCompiler.settled`, `after`), with
the same results."""

from __future__ import annotations

import ast
import itertools
import random

import pytest

from .test_language_further import book_with, case, result


def slot_in_code(book, rule_id: str, key: str) -> tuple[str, ast.Module]:
    """The local that holds the fact `key` of the rule, and the rule's block of `evaluate_case`,
    where it is set (every rule's block uses the same locals for its slots)."""
    rule = next(r for r in book.plan.rules if r.id == rule_id)
    slot = f"_r_f{[k for k, _kind in rule.facts].index(key)}"
    function = next(node for node in ast.walk(ast.parse(book.plan.source))
                    if isinstance(node, ast.FunctionDef) and node.name == "evaluate_case")
    spans = [(first, last) for first, last, index in book.plan.rule_lines if index == rule.index]
    block = [node for node in ast.walk(function) if isinstance(node, ast.stmt) and not isinstance(node, ast.FunctionDef)
             and any(first <= node.lineno and node.end_lineno <= last for first, last in spans)]
    outer = [node for node in block if not any(other is not node and other.lineno <= node.lineno
                                                and node.end_lineno <= other.end_lineno for other in block)]
    return slot, ast.Module(outer, [])


def reads(book, rule_id: str, key: str) -> int:
    """How many places of `evaluate_case` read the fact `key` of the rule into its slot (a
    `:=` to the slot; a read of a fact known already is a plain read of the slot)."""
    slot, function = slot_in_code(book, rule_id, key)
    return sum(isinstance(node, ast.NamedExpr) and node.target.id == slot for node in ast.walk(function))


# (a condition, the fact it surely reads, a case it holds on, a case it does not)
READ_FIRST = [
    ("paid_jpy > 10 yen", "paid_jpy", {"paid_jpy": 11}, {"paid_jpy": 10}),
    ("hourly >= 1000 yen per hour", "hourly", {"as_of": "2021-03-01"}, None),
    ("as_of > 2021-02-01", "as_of", {"as_of": "2021-03-01"}, {"as_of": "2021-01-01"}),
    ("big", "big", {"paid_jpy": 11}, {"paid_jpy": 10}),  # a let
    ("not (paid_jpy > 10 yen)", "paid_jpy", {"paid_jpy": 10}, {"paid_jpy": 11}),
    ("-paid_jpy < -10 yen", "paid_jpy", {"paid_jpy": 11}, {"paid_jpy": 10}),
    ("paid_jpy > 10 yen and capital_jpy is set", "paid_jpy", {"paid_jpy": 11, "capital_jpy": 1}, {"paid_jpy": 11}),
    ("paid_jpy > 10 yen or capital_jpy is set", "paid_jpy", {"paid_jpy": 11}, {"paid_jpy": 10}),
    ("paid_jpy + 1 yen > 11 yen", "paid_jpy", {"paid_jpy": 11}, {"paid_jpy": 10}),
    ("(capital_jpy + paid_jpy if missing 0 yen) > 11 yen", "capital_jpy", {"paid_jpy": 11, "capital_jpy": 1},
     {"paid_jpy": 11}),
    ("paid_jpy * 50% rounded down > 5 yen", "paid_jpy", {"paid_jpy": 12}, {"paid_jpy": 11}),
    ("capital_jpy is set", "capital_jpy", {"capital_jpy": 1}, {}),
    ("(capital_jpy if missing 0 yen) > 0 yen", "capital_jpy", {"capital_jpy": 1}, {}),
    ("(1 yen if paid_jpy > 10 yen else 0 yen) > 0 yen", "paid_jpy", {"paid_jpy": 11}, {"paid_jpy": 10}),
    ("(industry if missing \"none\") in [\"retail\"]", "industry", {"industry": "retail"}, {"industry": "food"}),
    ("size_limits[industry if missing \"none\"] is set", "industry", {"industry": "retail"}, {"industry": "food"}),
    ("any s in steps where s.hours > 2 hours", "steps", {}, {"steps": []}),
    ("sum of s.hours for s in steps > 2 hours", "steps", {}, {"steps": []}),
    ("min(paid_jpy, 100 yen) > 10 yen", "paid_jpy", {"paid_jpy": 11}, {"paid_jpy": 10}),
    ("min(capital_jpy, paid_jpy) is set", "capital_jpy", {"capital_jpy": 1}, {}),
]


@pytest.mark.parametrize("condition, key, holds, fails", READ_FIRST, ids=[c for c, *_ in READ_FIRST])
def test_a_fact_the_first_clause_surely_read_is_not_read_again_by_the_next(tmp_path, condition, key, holds, fails):
    book = book_with(tmp_path, f'''
        rule x.twice on case
          stage s1
          title ja "二度" en "Twice"
          source "s"
          let big = paid_jpy > 10 yen
          when ({condition}) and paid_jpy < 0 yen then fail
            message ja "a" en "first"
          when {condition} then pending
            message ja "a" en "second"
          otherwise pass
            message ja "a" en "neither"
        ''')
    assert reads(book, "x.twice", key) == 1
    out = result(book.judge(case(**holds)), "x.twice")
    assert out["message"]["en"] == "second" and key in out["facts"]  # the fact, read once, is shown
    if fails is not None:
        assert result(book.judge(case(**fails)), "x.twice")["message"]["en"] == "neither"


# (an expression whose later part reads again a fact its first part surely read, the fact)
READ_AFTER = [
    ("paid_jpy > paid_jpy - 1 yen", "paid_jpy"),                     # the right of a comparison
    ("paid_jpy > 1 yen and paid_jpy < 100000 yen", "paid_jpy"),      # the right of `and`
    ("(paid_jpy if paid_jpy > 1 yen else 0 yen) > 0 yen", "paid_jpy"),  # the branches of an `if`
    ("(capital_jpy if missing 0 yen) > 0 yen and capital_jpy is set", "capital_jpy"),
]


@pytest.mark.parametrize("condition, key", READ_AFTER, ids=[c for c, _ in READ_AFTER])
def test_a_later_part_of_an_expression_takes_what_its_first_part_read(tmp_path, condition, key):
    book = book_with(tmp_path, f'''
        rule x.once on case
          stage s1
          title ja "一度" en "Once"
          source "s"
          when {condition} then pass
            message ja "a" en "holds"
          otherwise fail
            message ja "a" en "not"
        ''')
    assert reads(book, "x.once", key) == 1
    out = result(book.judge(case(industry="retail", capital_jpy=1)), "x.once")
    assert out["message"]["en"] == "holds" and key in out["facts"]


@pytest.mark.parametrize("first", [
    "(paid_jpy + capital_jpy if missing 0 yen) > 1000 yen",   # the side that may be missing is read first
    "(min(paid_jpy, capital_jpy) if missing 0 yen) > 1000 yen",
    "(capital_jpy if missing paid_jpy) > 1000 yen",            # the default only when missing
    "capital_jpy is set and paid_jpy > 1000 yen",              # the right of `and` only after the left
    "(paid_jpy if capital_jpy is set else 0 yen) > 1000 yen",  # one branch of two
])
def test_a_fact_an_earlier_clause_may_not_have_read_is_read_where_it_is_needed(tmp_path, first):
    """What an earlier clause reads only on some cases is read again by the next: with
    `capital_jpy` missing, the first clause reads no `paid_jpy`, and the second must."""
    book = book_with(tmp_path, f'''
        rule x.maybe on case
          stage s1
          title ja "未読" en "Maybe"
          source "s"
          when {first} then fail
            message ja "a" en "first"
          when paid_jpy > 10 yen then pass
            message ja "a" en "second"
          otherwise pending
            message ja "a" en "neither"
        ''')
    out = result(book.judge(case(paid_jpy=11)), "x.maybe")
    assert (out["status"], out["message"]["en"], out["facts"]["paid_jpy"]) == ("pass", "second", 11)
    assert result(book.judge(case(paid_jpy=10)), "x.maybe")["status"] == "pending"
    assert result(book.judge(case(paid_jpy=2000, capital_jpy=5000)), "x.maybe")["status"] == "fail"


def test_a_count_of_a_list_is_not_a_reading_of_the_list(tmp_path):
    """`count of steps` is its own fact (the number), not the list: a later clause that reads
    the list reads it."""
    book = book_with(tmp_path, '''
        rule x.count on case
          stage s1
          title ja "件数" en "Count"
          source "s"
          when count of steps > 5 then fail
            message ja "a" en "many"
          when any s in steps where s.hours > 2 hours then pass
            message ja "a" en "long"
          otherwise pending
            message ja "a" en "short"
        ''')
    out = result(book.judge(case()), "x.count")
    assert (out["status"], out["message"]["en"]) == ("pass", "long")
    assert reads(book, "x.count", "steps") == 1
    assert result(book.judge(case(steps=[{"number": 1, "hours": 1, "paid_jpy": 1}])), "x.count")["status"] == "pending"


def memo_tests(book, rule_id: str, key: str) -> int:
    """How many places of `evaluate_case` test whether the let `key` was computed already
    (`slot is not _U`) before computing it."""
    slot, function = slot_in_code(book, rule_id, key)
    return sum(isinstance(node, ast.Compare) and isinstance(node.left, ast.Name) and node.left.id == slot
               and isinstance(node.ops[0], ast.IsNot) for node in ast.walk(function))


@pytest.mark.parametrize("second, memo", [
    ("paid_jpy > 100 yen", 0),   # `big` read at one place: computed there, with no test
    # read by two clauses: remembered (the first may not have read it); the first place, where
    # nothing can have computed it yet, computes it with no test (`compile._Slots`)
    ("big", 1),
    ("small", 1),                # read by a clause and by another let
])
def test_a_let_read_at_one_place_is_computed_there_and_one_read_at_more_is_remembered(tmp_path, second, memo):
    small = "let small = not big" if second == "small" else ""
    book = book_with(tmp_path, f'''
        rule x.lets on case
          stage s1
          title ja "変数" en "Lets"
          source "s"
          let big = paid_jpy > 10 yen
          {small}
          when paid_jpy < 0 yen and big then fail
            message ja "a" en "first"
          when {second} then pass
            message ja "a" en "second"
          otherwise pending
            message ja "a" en "neither"
        ''')
    assert memo_tests(book, "x.lets", "big") == memo
    assert result(book.judge(case(paid_jpy=11 if second != "small" else 10)), "x.lets")["status"] == \
        ("pending" if second == "paid_jpy > 100 yen" else "pass")


def test_a_numbered_step_rule_fails_the_step_it_names_or_else_the_case(tmp_path):
    """`on step numbered N`: its failure is the step's when N is set (the step's payout sees it),
    the case's when N is missing (the case's payout sees it); the result's subject says which."""
    book = book_with(tmp_path, '''
        rule x.numbered on step numbered employees
          stage s1
          title ja "番号" en "Numbered"
          source "s"
          when step is set and step.done_on is set then pass
            message ja "a" en "done"
          otherwise fail
            message ja "a" en "not done"

        payout on each step
          amount lost_jpy = 1 yen if some failure on step else 0 yen
            title ja "損" en "Lost"

        payout on case
          amount lost_jpy = 10 yen if some failure on case else 0 yen
            title ja "損" en "Lost"
        ''')
    missing = book.judge(case())
    assert result(missing, "x.numbered")["status"] == "fail"
    assert missing["payout"]["lost_jpy"] == 10 and [s["lost_jpy"] for s in missing["payout"]["steps"]] == [0, 0, 0]
    second = book.judge(case(employees=2))
    assert result(second, "x.numbered", "step:2")["status"] == "fail"
    assert second["payout"]["lost_jpy"] == 0 and [s["lost_jpy"] for s in second["payout"]["steps"]] == [0, 1, 0]
    first = book.judge(case(employees=1))
    assert result(first, "x.numbered", "step:1")["status"] == "pass" and first["payout"]["lost_jpy"] == 0


# ------------------------------------------------------------------ fused loops

FUSED = '''
    rule x.fused on case
      stage s1
      title ja "一度に" en "Fused"
      source "s"
      let long = count s in steps where s.hours > 1 hours
      let done = count s in steps where s.done_on is set
      let big_done = any s in steps where s.paid_jpy > 50000 yen and s.done_on is set
      let all_short = all s in steps where s.hours <= 2 hours
      let late = any s in steps where s.done_on is set and s.done_on > 2021-01-15
      let cheap = any s in steps where s.paid_jpy < cap_jpy
      when long > 0 and not big_done then fail
        message ja "a" en "long {long}"
      when done > 1 and all_short then pass
        message ja "a" en "done {done}"
      when big_done and late then pending
        message ja "a" en "late"
      when cheap then fail
        message ja "a" en "cheap"
      otherwise pass
        message ja "a" en "else"
    '''


def fused_and_apart(tmp_path, monkeypatch, text: str):
    """The rule file as the compiler makes it, and with its fusion of quantifiers off."""
    from rulebook.engine.expressions import ExpressionCompiler

    (tmp_path / "fused").mkdir()
    (tmp_path / "apart").mkdir()
    book = book_with(tmp_path / "fused", text)
    monkeypatch.setattr(ExpressionCompiler, "fuse", lambda self, exprs, scope: None)
    return book, book_with(tmp_path / "apart", text)


def fused_cases() -> list[dict]:
    pick = random.Random(16)
    out = []
    for _ in range(300):
        steps = [{"number": n, "hours": pick.choice([0.5, 1.5, 2.5]), "paid_jpy": pick.choice([1000, 80000, 400000]),
                  **({"done_on": pick.choice(["2021-01-10", "2021-01-20"])} if pick.random() < 0.6 else {})}
                 for n in range(1, pick.randint(0, 4) + 1)]
        out.append(case(steps=steps))
    return out


def plainly(snapshot: dict) -> tuple[str, str]:
    """x.fused's status and English message, computed in plain Python."""
    steps = snapshot["steps"]
    long = sum(1 for s in steps if s["hours"] > 1)
    done = sum(1 for s in steps if "done_on" in s)
    big_done = any(s["paid_jpy"] > 50000 and "done_on" in s for s in steps)
    all_short = all(s["hours"] <= 2 for s in steps)
    late = any("done_on" in s and s["done_on"] > "2021-01-15" for s in steps)
    if long > 0 and not big_done:
        return "fail", f"long {long}"
    if done > 1 and all_short:
        return "pass", f"done {done}"
    if big_done and late:
        return "pending", "late"
    if any(s["paid_jpy"] < 300000 for s in steps):
        return "fail", "cheap"
    return "pass", "else"


def test_quantifiers_over_one_list_run_as_one_loop_with_the_results_and_facts_of_one_loop_each(tmp_path, monkeypatch):
    """`count`/`any`/`all` of a rule over the same list, with bodies that read only the item and
    cannot raise, are computed by one pass (`ExpressionCompiler.fuse`): the same verdicts, facts
    included, as one loop each (the compiler with fusion off), and the statuses a plain
    computation gives. A body that compares an optional date, or reads a parameter, keeps its loop."""
    book, apart = fused_and_apart(tmp_path, monkeypatch, FUSED)
    source = ast.parse(book.plan.source)
    helpers = {fn.name: fn for fn in source.body if isinstance(fn, ast.FunctionDef)}
    _slot, block = slot_in_code(book, "x.fused", "steps")
    called = [node.func.id for node in ast.walk(block) if isinstance(node, ast.Call)
              and isinstance(node.func, ast.Name) and node.func.id.startswith("_loop")]
    fused = [name for name in set(called) if [a.arg for a in helpers[name].args.args] == ["items"]
             and isinstance(helpers[name].body[-1].value, ast.Tuple)]
    assert len(fused) == 1 and len(helpers[fused[0]].body[-1].value.elts) == 4  # long, done, big_done, all_short
    assert len(set(called)) == 3  # and `late`, `cheap` with a loop of their own
    assert "_r_g0" not in apart.plan.source
    for snapshot in fused_cases():
        verdict = book.judge(snapshot)
        assert verdict == apart.judge(snapshot)
        out = result(verdict, "x.fused")
        assert (out["status"], out["message"]["en"]) == plainly(snapshot), snapshot


@pytest.mark.parametrize("capital, paid", [(None, 5), (3, 5), (5, 3), (4, 4), (0, 7)])
@pytest.mark.parametrize("function", ["min", "max"])
def test_min_and_max_of_two_one_of_which_may_be_missing_pick_as_the_builtins_do(tmp_path, function, capital, paid):
    """`min(a, b)` / `max(a, b)` with a side that may be missing is missing when it is, else
    `a if a <= b else b` (`>=` for max) with no call of the builtin: the value, and the fact,
    the builtin gives."""
    book = book_with(tmp_path, f'''
        rule x.pick on case
          stage s1
          title ja "選ぶ" en "Pick"
          source "s"
          let picked = {function}(capital_jpy, paid_jpy)
          when picked is missing then pending
            message ja "a" en "missing"
          when picked > 4 yen then fail
            message ja "a" en "over {{picked}}"
          otherwise pass
            message ja "a" en "under {{picked}}"
        ''')
    _slot, block = slot_in_code(book, "x.pick", "picked")
    assert not [n for n in ast.walk(block) if isinstance(n, ast.Call) and getattr(n.func, "id", "") == function]
    out = result(book.judge(case(paid_jpy=paid, **({} if capital is None else {"capital_jpy": capital}))), "x.pick")
    expected = None if capital is None else {"min": min, "max": max}[function](capital, paid)
    if expected is None:
        assert out["status"] == "pending"
    else:
        assert (out["status"], out["facts"]["picked"]) == ("fail" if expected > 4 else "pass", expected)


def test_a_fused_quantifier_read_inside_another_quantifiers_body_gives_the_verdicts_of_one_loop_each(tmp_path, monkeypatch):
    """A let of a fused group read inside another quantifier's body (its loop helper then keeps
    the group's local as it keeps a fact slot): the same verdicts as one loop each."""
    text = '''
        rule x.nested on case
          stage s1
          title ja "入れ子" en "Nested"
          source "s"
          let n_long = count s in steps where s.hours > 1 hours
          let n_done = count s in steps where s.done_on is set
          when any t in steps where n_long > 1 and t.hours > 2 hours then fail
            message ja "a" en "long {n_long}"
          when n_done > 0 then pass
            message ja "a" en "done {n_done}"
          otherwise pending
            message ja "a" en "none"
        '''
    book, apart = fused_and_apart(tmp_path, monkeypatch, text)
    assert "_r_g0" in book.plan.source and "_r_g0" not in apart.plan.source
    statuses = set()
    for hours in itertools.product([0.5, 1.5, 2.5], repeat=3):
        for done in (None, "2021-01-10"):
            steps = [{"number": i + 1, "hours": h, "paid_jpy": 1, **({"done_on": done} if done and i == 1 else {})}
                     for i, h in enumerate(hours)]
            verdict = book.judge(case(steps=steps))
            assert verdict == apart.judge(case(steps=steps))
            statuses.add(result(verdict, "x.nested")["status"])
    assert statuses == {"fail", "pass", "pending"}


# ------------------------------------------------------------------ the order check inlined

ORDER_RULE = '''
    order flow
      received_on -> {target}.done_on

    rule x.order on case
      stage s1
      title ja "順序" en "Order"
      source "s"
      let broken = pairs out of order in flow
      when broken is not empty then fail
        message ja "a" en "out of order"
      otherwise pass
        message ja "a" en "in order"
    '''


@pytest.mark.parametrize("target, inlined", [("step", True), ("first step", False)])
def test_an_order_whose_steps_hang_from_the_case_is_checked_inline_with_the_verdicts_of_its_checker(
        tmp_path, monkeypatch, target, inlined):
    """An order graph with no `first` step and no arrow from a step to the case has its quick
    check inlined in `evaluate_case` (`order.inline_check`: `_oq0`, for any number of steps), and
    its pairs are asked of the checker only when that finds one: the verdicts, facts included, of
    the checker called for every case, and the statuses a plain computation gives."""
    from rulebook.engine import compile as compile_

    text = ORDER_RULE.format(target=target)
    (tmp_path / "inline").mkdir()
    (tmp_path / "called").mkdir()
    book = book_with(tmp_path / "inline", text)
    assert ("_oq0" in book.plan.source) is inlined
    monkeypatch.setattr(compile_, "inlinable", lambda plan: False)
    called = book_with(tmp_path / "called", text)
    assert "_oq0" not in called.plan.source
    pick = random.Random(10)
    statuses = set()
    for _ in range(200):
        steps = [{"number": n, "hours": 1, "paid_jpy": 1,
                  **({"done_on": f"2021-01-{pick.randint(10, 20)}"} if pick.random() < 0.7 else {})}
                 for n in range(1, pick.randint(0, 3) + 1)]
        received = f"2021-01-{pick.randint(10, 20)}" if pick.random() < 0.8 else None
        snapshot = case(steps=steps, **({"received_on": received} if received else {}))
        verdict = book.judge(snapshot)
        assert verdict == called.judge(snapshot)
        checked = steps[:1] if target == "first step" else steps
        late = received is not None and any("done_on" in s and s["done_on"] < received for s in checked)
        assert result(verdict, "x.order")["status"] == ("fail" if late else "pass"), snapshot
        statuses.add(result(verdict, "x.order")["status"])
    assert statuses == {"fail", "pass"}


# ------------------------------------------------------- the case's sums over the steps

STEP_SUMS = '''
    {steps_part}
    payout on case
      amount paid_jpy = sum of s.paid_jpy for s in steps
        title ja "支払" en "Paid"
      amount doubled_jpy = sum of s.paid_jpy * 2 for s in steps
        title ja "二倍" en "Doubled"
      amount due_jpy = paid_jpy - (sum of s.paid_jpy for s in steps) + cap_jpy
        title ja "上限" en "Due"
    '''
STEP_RULE = '''
    rule x.step on each step
      stage s1
      title ja "段" en "Step"
      source "s"
      when step.paid_jpy > 50000 yen then fail
        message ja "a" en "big"
      otherwise pass
        message ja "a" en "small"
    '''
STEP_PAYOUT = '''
    payout on each step
      amount step_paid_jpy = step.paid_jpy
        title ja "段の支払" en "Step paid"
    '''


@pytest.mark.parametrize("steps_part, in_loop", [(STEP_RULE, True), (STEP_PAYOUT, True), ("", False)])
def test_a_case_amounts_sum_over_the_steps_is_added_up_in_the_loop_over_the_steps(tmp_path, monkeypatch,
                                                                                 steps_part, in_loop):
    """A case amount `sum of BODY for VAR in steps` whose body reads only the step and cannot
    raise is added up in the driver's loop over the steps, when there is one before the case's
    payout (a step rule or the steps' payout): `_csumN`, in the order and from the 0 that `sum`
    adds from. The same verdicts and payout, as the compiler without it and a plain computation;
    a body that is more than a field (`s.paid_jpy * 2`) and a sum inside an expression keep
    their loops."""
    from rulebook.engine import compile as compile_

    text = STEP_SUMS.format(steps_part=steps_part)
    (tmp_path / "loop").mkdir()
    (tmp_path / "apart").mkdir()
    book = book_with(tmp_path / "loop", text)
    source = book.plan.source
    assert ("_csum0 = 0" in source and "_c0 = _csum0" in source) is in_loop
    assert "_csum1" not in source and "_csum2" not in source
    monkeypatch.setattr(compile_._Generator, "summed_in_steps_loop", lambda self, expr, scope, local: None)
    apart = book_with(tmp_path / "apart", text)
    assert "_csum" not in apart.plan.source
    pick = random.Random(17)
    for _ in range(100):
        steps = [{"number": n, "hours": 1, "paid_jpy": pick.choice([0, 1000, 80000, 400000])}
                 for n in range(1, pick.randint(0, 4) + 1)]
        snapshot = case(steps=steps)
        verdict = book.judge(snapshot)
        assert verdict == apart.judge(snapshot)
        paid = sum(s["paid_jpy"] for s in steps)
        payout = verdict["payout"]
        assert (payout["paid_jpy"], payout["doubled_jpy"], payout["due_jpy"]) == (paid, 2 * paid, 300000), snapshot


def test_step_rules_results_are_appended_to_their_lists_by_method_in_rule_then_step_order(tmp_path):
    """Each step rule's results go to its own list by `outN.append(…)` called as a method, with
    no bound `append` kept in a local for each rule of every case (1.03× evaluate_case with them);
    the results come out by rule, then by step."""
    book = book_with(tmp_path, STEP_RULE + '''
    rule x.second on each step
      stage s1
      title ja "段2" en "Step 2"
      source "s"
      when step.hours > 1 hours then pass
        message ja "a" en "long"
      otherwise pass
        message ja "a" en "short"
    ''')
    driver = next(fn for fn in ast.parse(book.plan.source).body
                  if isinstance(fn, ast.FunctionDef) and fn.name == "evaluate_case")
    assigned = {target.id for node in ast.walk(driver) if isinstance(node, ast.Assign)
                for target in node.targets if isinstance(target, ast.Name)}
    appends = {node.func.value.id for node in ast.walk(driver) if isinstance(node, ast.Call)
               and isinstance(node.func, ast.Attribute) and node.func.attr == "append"
               and isinstance(node.func.value, ast.Name)}
    assert {"out0", "out1"} <= appends and not {name for name in assigned if name.startswith("ap")}
    verdict = book.judge(case())
    assert [(r["rule"], r["subject"]) for r in verdict["results"]] == [
        ("x.step", "step:1"), ("x.step", "step:2"), ("x.step", "step:3"),
        ("x.second", "step:1"), ("x.second", "step:2"), ("x.second", "step:3")]


def test_a_fact_a_step_did_not_reach_is_unread_whatever_the_step_before_it_read(tmp_path):
    """Each branch keeps its result with the slots it surely set and `_U` for those it cannot
    have set, and only the slots a branch may or may not have set start as `_U` (`_Slots`): the
    slots are one set of locals for every rule and step, so a step that decides before reading a
    fact must not show the value the step before it read."""
    book = book_with(tmp_path, '''
    rule x.reach on each step
      stage s1
      title ja "到達" en "Reach"
      source "s"
      when step.hours < 2 hours then pending
        message ja "a" en "short"
      when step.done_on is set then pass
        message ja "a" en "done"
      otherwise fail
        message ja "a" en "not done"
    ''')
    driver = next(fn for fn in ast.parse(book.plan.source).body
                  if isinstance(fn, ast.FunctionDef) and fn.name == "evaluate_case")
    starts = [target.id for node in ast.walk(driver) if isinstance(node, ast.Assign)
              and isinstance(node.value, ast.Name) and node.value.id == "_U" for target in node.targets]
    assert not [slot for slot in starts if slot.startswith("_r_")]  # every slot is surely set or surely not
    verdict = book.judge(case(steps=[{"number": 1, "hours": 2.5, "paid_jpy": 80000, "done_on": "2021-01-20"},
                                     {"number": 2, "hours": 1, "paid_jpy": 80000},
                                     {"number": 3, "hours": 3, "paid_jpy": 80000}]))
    first, second, third = (result(verdict, "x.reach", f"step:{n}") for n in (1, 2, 3))
    assert (first["status"], second["status"], third["status"]) == ("pass", "pending", "fail")
    assert [key for key in first["facts"] if "done_on" in key] and [key for key in third["facts"] if "done_on" in key]
    assert not [key for key in second["facts"] if "done_on" in key], second["facts"]
