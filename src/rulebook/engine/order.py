"""The order graph of dates at run time: which pairs of set dates are out of order.

A pair (a, b) is checked when b can be reached from a along the arrows and both
dates are set; it is out of order when a is later than b. The graph's shape
depends only on how many steps a case has, so the pairs to check are worked out
once per step count.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from . import codegen as cg


@dataclass(frozen=True, slots=True)
class Pair:
    """Two dates out of order: `before` should not be later than `after`."""

    before: str
    before_on: object
    after: str
    after_on: object

    def as_fact(self) -> dict:
        return {"before": self.before, "before_on": self.before_on.isoformat(),
                "after": self.after, "after_on": self.after_on.isoformat()}


@dataclass(frozen=True, slots=True)
class _Graph:
    nodes: tuple  # (step index or None, path, label)
    topo: tuple  # node indexes in an order where predecessors come first
    preds: tuple  # per node: direct predecessors
    pairs: tuple  # (a, b): b reachable from a, in a stable order
    required: tuple  # the snapshot's records that are never None


@functools.lru_cache(maxsize=64)
def _graph(plan, steps: int) -> _Graph:
    nodes: list = []
    index: dict = {}

    def node(step, path) -> int:
        key = (step, path)
        if key not in index:
            index[key] = len(nodes)
            field = plan.steps_field or "steps"
            label = ".".join(path) if step is None else f"{field}[{step}]." + ".".join(path)
            nodes.append((step, path, label))
        return index[key]

    def expand(template: int) -> list[tuple]:
        scope, path = plan.nodes[template]
        if scope == "case":
            return [(None, path)]
        if scope == "first":
            return [(0, path)] if steps else []
        return [(j, path) for j in range(steps)]

    edges = set()
    for a, b in plan.edges:
        if plan.nodes[a][0] == "step" and plan.nodes[b][0] == "step":
            for j in range(steps):
                edges.add((node(j, plan.nodes[a][1]), node(j, plan.nodes[b][1])))
            continue
        for x in expand(a):
            for y in expand(b):
                edges.add((node(*x), node(*y)))
    for template in range(len(plan.nodes)):
        for x in expand(template):
            node(*x)
    succ = [[] for _ in nodes]
    preds = [[] for _ in nodes]
    for a, b in sorted(edges):
        succ[a].append(b)
        preds[b].append(a)
    # Kahn's algorithm, smallest index first: a stable topological order.
    indegree = [len(p) for p in preds]
    ready = sorted(i for i, d in enumerate(indegree) if d == 0)
    topo = []
    while ready:
        i = ready.pop(0)
        topo.append(i)
        for j in succ[i]:
            indegree[j] -= 1
            if indegree[j] == 0:
                ready.append(j)
                ready.sort()
    pairs = []
    for a in range(len(nodes)):
        seen, stack = set(), list(succ[a])
        while stack:
            b = stack.pop()
            if b not in seen:
                seen.add(b)
                stack.extend(succ[b])
        pairs.extend((a, b) for b in sorted(seen))
    return _Graph(tuple(nodes), tuple(topo), tuple(tuple(p) for p in preds), tuple(pairs), plan.required)


def _reads(graph: _Graph) -> tuple[list, dict]:
    """Statements reading the records the graph's dates are in (once each), and the expression
    reading each node's date, by node."""
    body: list = []
    objects: dict = {(None, ()): "c"}
    present = {"c"}  # the case, its steps and its required records are never None: read without a test

    def obj(step, path) -> str:
        """The local holding the record that the node's last field is read from."""
        key = (step, path[:-1])
        if key not in objects:
            local = objects[key] = f"o{len(objects) - 1}"
            if len(path) == 1:  # a step
                body.append(cg.assign(local, cg.item(cg.name("steps"), step)))
                present.add(local)
            else:
                parent = obj(step, path[:-1])
                field = cg.field(cg.name(parent), path[-2])
                body.append(cg.assign(local, field if parent in present else
                                      cg.if_else(cg.is_none(cg.name(parent)), cg.literal(None), field)))
                if step is None and len(path) == 2 and path[0] in graph.required:
                    present.add(local)
        return objects[key]

    def read(node: int):
        step, path, _ = graph.nodes[node]
        holder = obj(step, path)
        if holder in present:
            return cg.field(cg.name(holder), path[-1])
        return cg.if_else(cg.is_none(cg.name(holder)), cg.literal(None), cg.field(cg.name(holder), path[-1]))

    return body, {i: read(i) for i in range(len(graph.nodes))}


def _carry(node: int, preds, read, names: tuple[str, str, str], broken) -> list:
    """Statements that check one node of an order graph, in topological order: the latest date
    seen before it (`{prefix}{i}` of each predecessor i; the largest of several in `most`) is
    carried on as the node's own `{prefix}{node}` — the node's date when set and not earlier;
    when it is earlier, the pair is broken: the statements `broken(latest)` (the name of the
    latest date) follow. `read`: the node's date, kept in `value`; `names`: (prefix, value, most)."""
    prefix, value, most = names
    date = cg.walrus(value, read)
    if not preds:  # the latest date so far: the node's own, or the earliest day there is
        return [cg.assign(f"{prefix}{node}", cg.if_else(cg.is_none(date), cg.name("_MIN"), cg.name(value)))]
    out = []
    latest = f"{prefix}{preds[0]}"
    if len(preds) > 1:
        latest = most
        out.append(cg.assign(most, cg.name(f"{prefix}{preds[0]}")))
        for a in preds[1:]:
            out.append(cg.if_(cg.compare(cg.name(f"{prefix}{a}"), ">", cg.name(most)),
                              [cg.assign(most, cg.name(f"{prefix}{a}"))]))
    return out + cg.chain([
        (cg.is_none(date), [cg.assign(f"{prefix}{node}", cg.name(latest))]),
        (cg.compare(cg.name(latest), ">", cg.name(value)), broken(latest)),
        (None, [cg.assign(f"{prefix}{node}", cg.name(value))]),
    ])


@functools.lru_cache(maxsize=64)
def _quick_check(plan, steps: int, fields: tuple[str, ...]):
    """A function (case, steps) → True when some pair is out of order, as straight-line code.

    It carries, along the arrows in topological order, the latest date seen
    before each node; the first node set earlier than that carry is a broken pair.
    """
    graph = _graph(plan, steps)
    body, reads = _reads(graph)
    for b in graph.topo:
        body.extend(_carry(b, graph.preds[b], reads[b], ("k", "v", "m"), lambda _latest: [cg.return_(cg.literal(True))]))
    body.append(cg.return_(cg.literal(False)))
    module = cg.Module()
    module.add(cg.function("broken", ["c", "steps"], body))
    return module.run(fields, label="order check")["broken"]


def inlinable(plan) -> bool:
    """Whether `inline_check` can check the graph: no `first` step's node, no arrow from a step's
    date to the case's, each date a field of the case, of one of its records or of a step."""
    scopes = [scope for scope, _path in plan.nodes]
    return ("first" not in scopes and all(not (scopes[a] == "step" and scopes[b] == "case") for a, b in plan.edges)
            and all(len(path) in ((1, 2) if scope == "case" else (1,)) for scope, path in plan.nodes))


def inline_check(plan, flag: str, record, optional) -> list:
    """Statements that set `flag` to whether some pair of the case's dates is out of order, for
    any number of steps, to be inlined in a function where `c` is the case, `steps` its steps and
    `record(name)` the expression of the record `name` (`optional(name)`: it may be None) — the
    quick check of every step count at once, for a graph `inlinable` accepts: the case's dates
    in topological order, then, for each step, its own (whose arrows come from the case's dates
    and the step's), each date's latest predecessor carried along as `_quick_check` carries it."""
    nodes = plan.nodes
    preds = [[a for a, b in sorted(plan.edges) if b == i] for i in range(len(nodes))]

    def ordered(scope: str) -> list[int]:
        members = [i for i, (where, _path) in enumerate(nodes) if where == scope]
        done: list[int] = []
        while len(done) < len(members):  # smallest index first, as `_graph` orders them
            done.append(min(i for i in members if i not in done
                            and all(a in done for a in preds[i] if nodes[a][0] == scope)))
        return done

    def read(i: int):
        scope, path = nodes[i]
        if scope == "step":
            return cg.field(cg.name("_ost"), path[0])
        if len(path) == 1:
            return cg.field(cg.name("c"), path[0])
        value = cg.field(record(path[0]), path[1])
        return cg.if_else(cg.is_none(record(path[0])), cg.literal(None), value) if optional(path[0]) else value

    def check(i: int) -> list:  # a broken pair sets the flag, and the latest date goes on
        return _carry(i, preds[i], read(i), ("_ok", "_ov", "_om"),
                      lambda latest: [cg.assign(flag, cg.literal(True)), cg.assign(f"_ok{i}", cg.name(latest))])

    body = [cg.assign(flag, cg.literal(False))]
    for i in ordered("case"):
        body += check(i)
    each = [statement for i in ordered("step") for statement in check(i)]
    if each:
        body.append(cg.for_("_ost", cg.name("steps"), each))
    return body


@functools.lru_cache(maxsize=64)
def _pairs_check(plan, steps: int, fields: tuple[str, ...]):
    """A function (case, steps) → (the indexes in the graph's `pairs` of those out of order, the
    nodes' dates), as straight-line code: each date read once, each pair compared once."""
    graph = _graph(plan, steps)
    body, reads = _reads(graph)
    for node in range(len(graph.nodes)):
        body.append(cg.assign(f"v{node}", reads[node]))
    body.append(cg.assign("out", cg.list_of()))
    by_first: dict[int, list] = {}
    for index, (a, b) in enumerate(graph.pairs):
        by_first.setdefault(a, []).append((index, b))
    for a, pairs in by_first.items():
        tests = [cg.if_(cg.both(cg.is_set(cg.name(f"v{b}")), cg.compare(cg.name(f"v{a}"), ">", cg.name(f"v{b}"))),
                        [cg.do(cg.method(cg.name("out"), "append", cg.literal(index)))]) for index, b in pairs]
        body.append(cg.if_(cg.is_set(cg.name(f"v{a}")), tests))
    body.append(cg.return_(cg.tuple_of([cg.name("out"), cg.tuple_of([cg.name(f"v{n}") for n in range(len(graph.nodes))])])))
    module = cg.Module()
    module.add(cg.function("pairs", ["c", "steps"], body))
    return module.run(fields, label="order pairs")["pairs"]


def checker(plan, fields=()):
    """out_of_order(case, steps) for one order graph, with its checks kept by step count;
    `fields` are the schema's declared fields (the names the checks may read)."""
    quick: dict = {}  # by step count: the quick check (every case runs it)
    broken_pairs: dict = {}  # by step count: the pairs check, the graph's pairs and nodes (a broken case)
    fields = tuple(fields)

    def out_of_order(case, steps) -> list[Pair] | tuple:
        count = len(steps)
        check = quick.get(count)
        if check is None:
            check = quick[count] = _quick_check(plan, count, fields)
        if not check(case, steps):
            return ()
        kept = broken_pairs.get(count)
        if kept is None:
            graph = _graph(plan, count)
            kept = broken_pairs[count] = (_pairs_check(plan, count, fields), graph.pairs, graph.nodes)
        pairs, graph_pairs, nodes = kept
        broken, values = pairs(case, steps)
        out = []
        for index in broken:
            a, b = graph_pairs[index]
            out.append(Pair(nodes[a][2], values[a], nodes[b][2], values[b]))
        return out

    return out_of_order
