"""The wheel carries the grammar, the rulebook and the package's data: build it, install it in a
fresh virtual environment, and run `rulebook check` there (an editable install hides a missing
file).

Offline: the wheel is built without build isolation (hatchling comes with the dev extra) and
installed without its dependencies into a new environment that sees the test environment's
packages (a `.pth` line naming its site-packages; the test environment's own `.pth` files, such
as the editable install's, are not read from there). So the `rulebook` imported in the new
environment can only be the wheel's: the test asserts it, and that the grammar, the rules and the
page it reads are the wheel's copies."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

from ..conftest import EXAMPLES, ROOT

SOURCE = ROOT / "src" / "rulebook"

PROBE = """
import json, sys
from importlib import resources
import rulebook
from rulebook.book import bundled_rules
from rulebook.language.grammar import grammar_text
page = resources.files("rulebook.apps").joinpath("web").joinpath("index.html")
print(json.dumps({
    "module": rulebook.__file__,
    "rules": str(bundled_rules()),
    "grammar": str(resources.files("rulebook").joinpath("grammar").joinpath("rulebook.lark")),
    "grammar_text": grammar_text(),
    "page": str(page),
    "page_text": page.read_text(encoding="utf-8"),
    "path": sys.path,
}))
"""


def _package_data() -> set[str]:
    """The package's files that are not Python (the page, templates…), as wheel names."""
    return {"rulebook/" + p.relative_to(SOURCE).as_posix() for p in SOURCE.rglob("*")
            if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                            "-q", "-w", str(dist), str(ROOT)], capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr[-3000:]
    (found,) = dist.glob("rulebook-*.whl")
    return found


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """A new virtual environment with the wheel installed (no index, no dependencies fetched)."""
    env_dir = tmp_path_factory.mktemp("venv")
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    # The test environment's packages (the dependencies, and pip), after the new environment's own.
    (Path(purelib) / "test-environment.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    done = subprocess.run([str(python), "-m", "pip", "install", "--no-deps", "--no-index", "-q", str(wheel)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return env_dir


def test_the_wheel_holds_the_grammar_the_rules_and_the_package_data(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "rulebook/grammar/rulebook.lark" in names
    rules = {"rulebook/rules/" + p.relative_to(ROOT / "rules").as_posix() for p in (ROOT / "rules").rglob("*")
             if p.is_file()}
    assert {"rulebook/rules/schema.rules", "rulebook/rules/steps.rules"} <= rules
    assert rules <= names, sorted(rules - names)  # the rule files and the rulebook's own tests
    data = _package_data()
    assert {"rulebook/apps/web/index.html", "rulebook/output/templates/report.html",
            "rulebook/output/templates/report.css"} <= data
    assert data <= names, sorted(data - names)
    modules = {"rulebook/" + p.relative_to(SOURCE).as_posix() for p in SOURCE.rglob("*.py")}
    assert modules <= names, sorted(modules - names)


def test_the_installed_wheel_runs_its_own_code_and_files(installed, tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["RULEBOOK_CACHE"] = str(tmp_path / "cache")
    probe = subprocess.run([str(installed / "bin" / "python"), "-c", PROBE], capture_output=True, text=True,
                           env=env, cwd=tmp_path, timeout=120)
    assert probe.returncode == 0, probe.stderr[-3000:]
    seen = json.loads(probe.stdout)
    inside = str(installed.resolve())
    for key in ("module", "rules", "grammar", "page"):
        assert str(Path(seen[key]).resolve()).startswith(inside), f"{key} comes from {seen[key]}, not the wheel"
    assert str(ROOT / "src") not in seen["path"]
    assert seen["grammar_text"] == (ROOT / "grammar" / "rulebook.lark").read_text(encoding="utf-8")
    assert seen["page_text"] == (SOURCE / "apps" / "web" / "index.html").read_text(encoding="utf-8")
    assert sorted(p.name for p in Path(seen["rules"]).glob("*.rules")) == sorted(
        p.name for p in (ROOT / "rules").glob("*.rules"))

    rulebook = str(installed / "bin" / "rulebook")
    checked = subprocess.run([rulebook, "check", str(EXAMPLES / "seed-case.yaml"), "--format", "json"],
                             capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert checked.returncode == 0, checked.stderr
    verdict = json.loads(checked.stdout)
    assert verdict["verdict"] == "eligible" and verdict["case_id"] == "SEED-EXAMPLE"
    assert verdict["payout"]["expert_total_jpy"] == 188000
    failing = subprocess.run([rulebook, "check", str(EXAMPLES / "failing-case.yaml"), "--lang", "en"],
                             capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert failing.returncode == 1 and "ineligible" in failing.stdout.lower(), failing.stdout + failing.stderr
    tested = subprocess.run([rulebook, "test", "--require-coverage"],
                            capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    # The audit's report is rendered from the wheel's templates, its style inlined.
    report = subprocess.run([str(installed / "bin" / "python"), "-c",
                             "from rulebook.output.report import render_report; print(render_report({}, [], 'en'))"],
                            capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert report.returncode == 0, report.stderr
    css = (ROOT / "src" / "rulebook" / "output" / "templates" / "report.css").read_text(encoding="utf-8")
    assert report.stdout.startswith("<!DOCTYPE html>") and f"<style>{css}</style>" in report.stdout
