"""The fuzz targets' first corpora, from the repository's own examples and tests.

    python -m fuzz.seeds          # writes fuzz/corpus/<target>/seed-*; existing inputs stay

Each target's input format is in its module's docstring. The fuzzer then grows (and merges)
the corpora; the seeds stay recognisable by their names until a merge renames them.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
CORPUS = ROOT / "fuzz" / "corpus"


def _json_ready(value):
    return json.loads(json.dumps(value, default=str, ensure_ascii=False))


def _cases() -> dict[str, dict]:
    return {p.stem: _json_ready(yaml.safe_load(p.read_text(encoding="utf-8"))) for p in sorted(EXAMPLES.glob("*.yaml"))}


def documents() -> dict[str, bytes]:
    out = {}
    cases = _cases()
    for name, case in cases.items():
        text = (EXAMPLES / f"{name}.yaml").read_bytes()
        out[f"{name}.yaml"] = b"Y" + text
        out[f"{name}.json"] = b"J" + json.dumps(case, ensure_ascii=False).encode()
        out[f"{name}.sniffed"] = text
    lines = b"".join(json.dumps(c, ensure_ascii=False).encode() + b"\n" for c in cases.values())
    out["cases.jsonl"] = b"L" + lines
    out["cases.jsonl.gz"] = b"Z" + lines
    out["broken-middle.jsonl"] = b"L" + lines.replace(b"\n", b"\n{\"case_id\": \n", 1)
    hostile = {
        "empty.yaml": b"Y", "empty.json": b"J", "empty.jsonl": b"L", "nothing": b"",
        "two-docs.yaml": b"Y---\na: 1\n---\nb: 2\n",
        "aliases.yaml": b"Ya: &a [x, x]\nb: &b [*a, *a]\nc: &c [*b, *b]\nd: [*c, *c]\n",
        "tags.yaml": b"Y!!python/object:os.system {}\n",
        "binary.yaml": b"Ya: !!binary aGVsbG8=\n",
        "nested.json": b"J" + b"[" * 200 + b"]" * 200,
        "huge-int.json": b'J{"case_id": "x", "claim": {"honorarium_jpy": 123456789012345678901234567890}}',
        "nan.json": b'J{"a": NaN}',
        "latin1.yaml": b"Ycase_id: caf\xe9\n",
        "bom.json": b"J\xef\xbb\xbf{}",
        "utf16.yaml": b"Y\xff\xfec\x00:\x00",
        "list.yaml": b"Y- 1\n- 2\n",
        "date.yaml": b"Yas_of: 2021-02-30\n",
    }
    out.update(hostile)
    return out


def rules() -> dict[str, bytes]:
    out = {}
    for path in sorted((ROOT / "rules").glob("*.rules")):
        out[f"replaces-{path.stem}"] = f"# replaces: {path.name}\n".encode() + path.read_bytes()
    diagnostics = ROOT / "tests" / "diagnostics"
    base = b"".join(p.read_bytes() + b"\n" for p in sorted((diagnostics / "base").glob("*.rules")))
    out["base"] = base
    for path in sorted(diagnostics.glob("RB*.rules")):
        out[path.stem] = base + path.read_bytes()
    sys.path.insert(0, str(ROOT))
    from tests.unit.test_language import HEADER

    out["language-header"] = HEADER.encode()
    return out


def service() -> dict[str, bytes]:
    cases = _cases()
    seed = json.dumps(cases["seed-case"], ensure_ascii=False).encode()
    lines = b"".join(json.dumps(c, ensure_ascii=False).encode() + b"\n" for c in cases.values())
    yaml_text = (EXAMPLES / "pending-case.yaml").read_bytes()
    return {
        "page": b"GET /\n\n",
        "healthz": b"GET /healthz\n\n",
        "rules": b"GET /v1/rules\n\n",
        "schema": b"GET /v1/schema\n\n",
        "openapi": b"GET /openapi.json\n\n",
        "check-json": b"POST /v1/check\ncontent-type: application/json\n\n" + seed,
        "check-en": b"POST /v1/check?lang=en&as_of=2021-03-01\ncontent-type: application/json\n\n" + seed,
        "check-yaml": b"POST /v1/check?lang=ja\ncontent-type: application/yaml\n\n" + yaml_text,
        "check-bad-day": b"POST /v1/check?as_of=2021-02-30\n\n" + seed,
        "check-empty": b"POST /v1/check\n\n",
        "batch": b"POST /v1/check/batch\ncontent-type: application/x-ndjson\n\n" + lines + b"{\n[]\n",
        "keyed": b"POST /v1/check keyed\nx-api-key: k\n\n" + seed,
        "keyed-bearer": b"GET /v1/rules keyed\nauthorization: Bearer k\n\n",
        "keyed-wrong": b"GET /v1/rules keyed\nx-api-key: nope\n\n",
        "trailing-slash": b"GET /v1/rules/\n\n",
        "not-allowed": b"DELETE /v1/check\n\n",
        "no-route": b"GET /v2/%2e%2e/etc\n\n",
        "long-length": b"POST /v1/check\ncontent-length: 99999999999\n\n{}",
    }


def events() -> dict[str, bytes]:
    out = {}
    for name, path in (("events", EXAMPLES / "events.jsonl"), ("bad-events", ROOT / "tests" / "watch" / "bad-events.jsonl")):
        data = path.read_bytes()
        out[name] = data
        lines = data.splitlines(keepends=True)
        out[f"{name}-first-half"] = b"".join(lines[: len(lines) // 2])
    small = [{"case_id": "A", "at": "2021-01-10", "snapshot": {"case_id": "A", "as_of": "2021-01-10",
                                                               "opened_on": "2021-01-08"}},
             {"case_id": "B", "at": "2021-02-10", "snapshot": {"case_id": "B", "as_of": "2021-02-10",
                                                               "opened_on": "2021-02-01"}},
             {"case_id": "A", "at": "2021-02-12", "set": {"paid_jpy": 10}}]
    out["small"] = b"#small\n" + b"".join(json.dumps(e).encode() + b"\n" for e in small)
    return out


SEEDS = {"documents": documents, "rules": rules, "service": service, "events": events}


def write(targets=SEEDS) -> None:
    for name in targets:
        folder = CORPUS / name
        folder.mkdir(parents=True, exist_ok=True)
        held = {hashlib.sha1(p.read_bytes()).hexdigest() for p in folder.iterdir() if p.is_file()}
        added = 0
        for seed_name, data in SEEDS[name]().items():
            if hashlib.sha1(data).hexdigest() not in held:
                (folder / f"seed-{seed_name}").write_bytes(data)
                added += 1
        print(f"{name}: {added} seeds added, {len(list(folder.iterdir()))} inputs")


if __name__ == "__main__":
    write(sys.argv[1:] or SEEDS)
