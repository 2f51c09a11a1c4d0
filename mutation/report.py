"""The mutation report (docs/MUTATION.md): mutmut's outcomes for the Python modules, the rule-file
mutator's for rules/*.rules, the score of each area, and every surviving mutant, either judged
equivalent (mutation/equivalent.toml says why) or listed as a survivor to kill.

    python -m mutation.report [--rules build/mutation/rules.json] [--out docs/MUTATION.md]

Reads mutmut's results from its `mutants/` folder (by running `mutmut results` and `mutmut show`
in the repository), so it can be run again after `mutmut run` without running anything else.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tomllib
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EQUIVALENT = ROOT / "mutation" / "equivalent.toml"
RULES_RESULTS = ROOT / "build" / "mutation" / "rules.json"
PYTHON_RESULTS = ROOT / "build" / "mutation" / "python.json"
REPORT = ROOT / "docs" / "MUTATION.md"

# The areas the score is given for, and the modules or files of each.
AREAS = {
    "engine": ("rulebook.engine.",),
    "payout and verdict (output/explain.py)": ("rulebook.output.explain",),
    "validation (input/snapshot.py)": ("rulebook.input.snapshot",),
    "rules": ("rules/",),
}
CAUGHT = {"killed", "timeout", "refused", "caught by type check"}
# The payout path inside output/explain.py: the verdict and payout around the results, and writing
# them (the rest of the module is texts, due dates and formatting; the compact line is written by
# output/compact.py now).
PAYOUT_PATH = {"Explainer.explain", "Explainer._verdict", "dumps", "json_default", "fact"}
PAYOUT_ROW = "the payout path in it (" + ", ".join(sorted(PAYOUT_PATH)) + ")"


def mutmut_outcomes() -> dict[str, str]:
    """{mutant name: status} from mutmut's last run."""
    run = subprocess.run([sys.executable, "-m", "mutmut", "results", "--all", "true"], cwd=ROOT,
                         capture_output=True, text=True, check=True)
    out = {}
    for line in run.stdout.splitlines():
        name, _, status = line.strip().partition(": ")
        if name and status:
            out[name] = status
    return out


def mutmut_diff(name: str) -> str:
    run = subprocess.run([sys.executable, "-m", "mutmut", "show", name], cwd=ROOT, capture_output=True, text=True)
    lines = [line for line in run.stdout.splitlines()[1:] if line.startswith(("+", "-"))
             and not line.startswith(("+++", "---"))]
    return "\n".join(lines)


def collect_python() -> list[dict]:
    """Every mutmut mutant as {id, module, function, outcome, diff (survivors only)}."""
    mutants = []
    for name, status in sorted(mutmut_outcomes().items(), key=lambda kv: _natural(kv[0])):
        module, _, rest = name.partition(".x")
        function = re.sub(r"__mutmut_\d+$", "", rest.lstrip("_ǁ")).replace("ǁ", ".")
        entry = {"id": name, "module": module, "function": function,
                 "outcome": "no tests" if status == "no tests" else status}
        if entry["outcome"] not in CAUGHT and entry["outcome"] != "not checked":
            entry["diff"] = mutmut_diff(name)
        mutants.append(entry)
    return mutants


def _natural(text: str):
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


def _area(mutant_id: str, module: str | None) -> str:
    key = module or mutant_id
    for area, prefixes in AREAS.items():
        if key.startswith(prefixes):
            return area
    return "other"


def summarise(python: list[dict], rules: list[dict], equivalent: dict[str, str]) -> dict:
    """Counts per area: total, killed (with timeouts), refused by the checker, equivalent, survived."""
    table: dict[str, Counter] = defaultdict(Counter)
    for m in python:
        area = _area(m["id"], m["module"])
        _count(table[area], m, equivalent)
        if m["module"] == "rulebook.output.explain" and m["function"] in PAYOUT_PATH:
            _count(table[PAYOUT_ROW], m, equivalent)
    for m in rules:
        _count(table["rules"], m, equivalent)
    return table


def _count(row: Counter, mutant: dict, equivalent: dict[str, str]) -> None:
    row["total"] += 1
    outcome = mutant["outcome"]
    if outcome in ("killed", "timeout", "caught by type check"):
        row["killed"] += 1
    elif outcome == "refused":
        row["refused"] += 1
    elif mutant["id"] in equivalent:
        row["equivalent"] += 1
    elif outcome == "no tests":
        row["no tests"] += 1
    else:
        row["survived"] += 1


def score(row: Counter) -> float:
    judged = row["total"] - row["equivalent"]
    return 100.0 * (row["killed"] + row["refused"]) / judged if judged else 100.0


def render(python: list[dict], rules: list[dict], rules_meta: dict, equivalent: dict[str, str],
           python_meta: dict) -> str:
    table = summarise(python, rules, equivalent)
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout
    out = ["# Mutation testing", "",
           "What `make mutate` found: each mutant is one small change to the code that decides a verdict or",
           "money, or to a rule file; the tests must fail on it. Generated by `python -m mutation.report`",
           "from the last run; do not edit by hand (`mutation/equivalent.toml` holds the judgements).",
           f"Written at commit {head.strip() or '?'}; the mutants' lines and names are those of the code the run saw.",
           "",
           "| area | mutants | killed | refused by the checker | equivalent | not reached by a test | survived | score |",
           "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for area in (*AREAS, PAYOUT_ROW):
        row = table.get(area)
        if not row:
            continue
        out.append(f"| {area} | {row['total']:,} | {row['killed']:,} | {row['refused']:,} | {row['equivalent']:,} "
                   f"| {row['no tests']:,} | {row['survived']:,} | **{score(row):.1f}%** |")
    out += ["", "The score is the mutants caught (killed by a test, or refused by the rule checker when a rule "
            "file no longer loads) over all mutants but the equivalent ones. A mutant no test reaches counts "
            "as not caught.", ""]
    if python_meta:
        sample, only = python_meta.get("sample", 1), python_meta.get("only") or []
        made = len(python) + python_meta["not_checked"]
        scope = ""
        if only:
            scope = (f" in {', '.join(f'`{prefix}*`' for prefix in only)} ({python_meta.get('in_scope', '?'):,} "
                     f"of the {made:,} mutants mutmut makes; the other modules' mutants were not run)")
        command = "python -m mutation --python-only" + (f" --sample {sample}" if sample > 1 else "") + \
            "".join(f" --only {prefix}" for prefix in only)
        out.append(f"Python (mutmut {python_meta.get('mutmut', '')}): {len(python):,} mutants checked"
                   + (f", one in {sample} of those that mutmut makes" if sample > 1 else ", all those mutmut makes")
                   + scope + (f" (`{command}`; `make mutate` checks them all)" if sample > 1 or only else "")
                   + f", in {python_meta.get('seconds', '?')} s with {python_meta.get('jobs', '?')} jobs. "
                   + python_meta.get("note", ""))  # how the run was made, when it was not one command
    if rules_meta:
        out.append(f"Rule files (`mutation/rules.py`): {rules_meta.get('seconds', '?')} s with "
                   f"{rules_meta.get('jobs', '?')} jobs, each mutant against "
                   + ", ".join(f"`{t}`" for t in rules_meta.get("tests", [])) + ".")
    out.append("")

    by_module: dict[str, Counter] = defaultdict(Counter)
    for m in python:
        _count(by_module[m["module"]], m, equivalent)
    for m in rules:
        _count(by_module[m["file"]], m, equivalent)
    out += ["## By module and rule file", "", "| module or file | mutants | caught | equivalent | not caught | score |",
            "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for name in sorted(by_module):
        row = by_module[name]
        out.append(f"| `{name}` | {row['total']:,} | {row['killed'] + row['refused']:,} | {row['equivalent']:,} | "
                   f"{row['survived'] + row['no tests']:,} | {score(row):.1f}% |")
    out.append("")

    out += ["## Rule-file mutants not killed by a test", ""]
    kinds = Counter(m["kind"] for m in rules)
    out.append("Mutants by kind: " + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())) + ".")
    out.append("")
    for m in rules:
        if m["outcome"] in ("killed", "timeout", "refused"):
            continue
        verdict = f"equivalent: {equivalent[m['id']]}" if m["id"] in equivalent else "**survived**"
        out.append(f"- `{m['id']}` ({m['kind']}) in `{m['context']}` — {verdict}")
    refused = [m for m in rules if m["outcome"] == "refused"]
    if refused:
        out += ["", f"{len(refused)} rule-file mutants were refused by the checker (the rulebook no longer "
                "loads), for example:", ""]
        for m in refused[:8]:
            out.append(f"- `{m['id']}`: {m['by']}")
    out.append("")

    out += ["## Python mutants not killed by a test", ""]
    for m in python:
        if m["outcome"] in CAUGHT:
            continue
        if m["id"] in equivalent:
            verdict = f"equivalent: {equivalent[m['id']]}"
        elif m["outcome"] == "no tests":
            verdict = "**not reached** by the in-process tests"
        else:
            verdict = f"**{m['outcome']}**"
        note = next((text for prefix, text in load_notes() if m["id"].startswith(prefix)), None)
        if note and m["id"] not in equivalent:
            verdict += f": {note}"
        diff = m.get("diff", "").strip()
        out.append(f"- `{m['id']}` — {verdict}")
        if diff:
            out += ["  ```diff", *("  " + line for line in diff.splitlines()), "  ```"]
    out.append("")
    return "\n".join(out)


def load_equivalent() -> dict[str, str]:
    if not EQUIVALENT.exists():
        return {}
    data = tomllib.loads(EQUIVALENT.read_text(encoding="utf-8"))
    return {entry["id"]: entry["why"] for entry in data.get("equivalent", [])}


def load_notes() -> list[tuple[str, str]]:
    """(name prefix, what the survivors of that function change and why the tests miss it)."""
    if not EQUIVALENT.exists():
        return []
    data = tomllib.loads(EQUIVALENT.read_text(encoding="utf-8"))
    return [(entry["prefix"], entry["text"]) for entry in data.get("note", [])]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mutation.report")
    parser.add_argument("--rules", type=Path, default=RULES_RESULTS)
    parser.add_argument("--python", type=Path, default=PYTHON_RESULTS,
                        help="where the Python mutants' outcomes are kept (read from mutmut when missing)")
    parser.add_argument("--refresh", action="store_true", help="read mutmut's results again")
    parser.add_argument("--out", type=Path, default=REPORT)
    args = parser.parse_args(argv)
    rules_meta = json.loads(args.rules.read_text(encoding="utf-8")) if args.rules.exists() else {}
    python_meta = json.loads(args.python.read_text(encoding="utf-8")) if args.python.exists() else {}
    if args.refresh or "mutants" not in python_meta:
        python_meta["mutants"] = collect_python()
        args.python.parent.mkdir(parents=True, exist_ok=True)
        args.python.write_text(json.dumps(python_meta, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    checked = [m for m in python_meta["mutants"] if m["outcome"] != "not checked"]
    python_meta["not_checked"] = len(python_meta["mutants"]) - len(checked)
    only = tuple(python_meta.get("only") or ())
    python_meta["in_scope"] = sum(m["id"].startswith(only) for m in python_meta["mutants"]) if only else 0
    text = render(checked, rules_meta.get("mutants", []), rules_meta, load_equivalent(), python_meta)
    args.out.write_text(text, encoding="utf-8")
    table = summarise(checked, rules_meta.get("mutants", []), load_equivalent())
    for area in AREAS:
        if area in table:
            print(f"{area}: {score(table[area]):.1f}% of {table[area]['total']} mutants")
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
