"""The pipeline's layering (pyproject's import-linter contract) holds."""

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from ..conftest import ROOT


def test_each_module_imports_only_what_lies_below_it():
    command = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or "lint-imports"
    result = subprocess.run([command], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]["contracts"]
    assert f"{len(contracts)} kept, 0 broken" in result.stdout  # every contract of pyproject.toml was checked
