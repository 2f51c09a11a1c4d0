"""The wheel carries the grammar and the rulebook: build it, install it in a fresh
virtual environment, and run `rulebook check` there (an editable install hides a
missing file)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

from ..conftest import EXAMPLES, ROOT


def test_the_wheel_installs_and_runs(tmp_path):
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(ROOT)],
                   check=True, capture_output=True, timeout=600)
    wheel = next(dist.glob("rulebook-*.whl"))
    import zipfile

    names = zipfile.ZipFile(wheel).namelist()
    assert "rulebook/grammar/rulebook.lark" in names
    assert "rulebook/rules/case.rules" in names and "rulebook/rules/schema.rules" in names
    assert "rulebook/output/templates/report.html" in names and "rulebook/output/templates/report.css" in names
    assert "rulebook/apps/web/index.html" in names

    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "-q", str(wheel)], check=True, capture_output=True,
                   timeout=600)
    env = dict(os.environ, RULEBOOK_CACHE=str(tmp_path / "cache"))
    result = subprocess.run([str(env_dir / "bin" / "rulebook"), "check", str(EXAMPLES / "seed-case.yaml"),
                             "--format", "json"], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["payout"]["expert_total_jpy"] == 188000
    tested = subprocess.run([str(env_dir / "bin" / "rulebook"), "test", "--require-coverage"],
                            capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    # The audit's report is rendered from the wheel's templates, its style inlined.
    report = subprocess.run([str(python), "-c", "from rulebook.output.report import render_report; "
                             "print(render_report({}, [], 'en'))"], capture_output=True, text=True, env=env,
                            cwd=tmp_path, timeout=120)
    assert report.returncode == 0, report.stderr
    css = (ROOT / "src" / "rulebook" / "output" / "templates" / "report.css").read_text(encoding="utf-8")
    assert report.stdout.startswith("<!DOCTYPE html>") and f"<style>{css}</style>" in report.stdout
    assert Path(env_dir).exists()
