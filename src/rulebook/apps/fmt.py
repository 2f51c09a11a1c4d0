"""`rulebook fmt`: rule files rewritten in the canonical layout, or (`--check`) a diff of what
would change, for CI.

Exit status: 0 every file is (now) formatted; 1 with `--check`, some file is not; 2 some path
could not be read or written, or some file does not parse (its diagnostics are printed and it
is left as it is; the other files are still formatted).
"""

from __future__ import annotations

import contextlib
import difflib
import os
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ..language.format import format_source
from ..language.source import Source
from ..output.terminal import visible

SUFFIX = ".rules"

MESSAGES = {
    "formatted": {"ja": "整形しました: {path}", "en": "formatted {path}"},
    "unformatted": {"ja": "整形されていないファイルが {count} 個あります。`rulebook fmt` で整形できます。",
                    "en": "{count} file(s) not formatted; `rulebook fmt` formats them"},
    "missing": {"ja": "ファイルもフォルダもありません: {path}", "en": "no such file or folder: {path}"},
    "empty": {"ja": "`.rules` ファイルがありません: {path}", "en": "no `.rules` file in {path}"},
    "unreadable": {"ja": "読めません: {path}({reason})", "en": "cannot read {path}: {reason}"},
    "not_utf8": {"ja": "UTF-8 のテキストではありません: {path}", "en": "not text in UTF-8: {path}"},
    "unwritable": {"ja": "書き込めません: {path}({reason})", "en": "cannot write {path}: {reason}"},
    "not_parsed": {"ja": "構文エラーのため整形しませんでした: {path}", "en": "not formatted, it does not parse: {path}"},
}


def say(key: str, lang: str, **values) -> str:
    return MESSAGES[key][lang].format(**{k: visible(str(v)) for k, v in values.items()})


@dataclass
class Report:
    changed: list[str] = field(default_factory=list)
    failed: bool = False

    def exit_code(self, check: bool) -> int:
        if self.failed:
            return 2
        return 1 if check and self.changed else 0


def rule_files(paths: list[str], lang: str, errors) -> list[Path]:
    """The `.rules` files named or under the folders named, each once, in the order given
    (a folder's in sorted order)."""
    out: list[Path] = []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            found = sorted(p for p in path.rglob(f"*{SUFFIX}") if p.is_file())
            if not found:
                errors(say("empty", lang, path=name))
            out.extend(found)
        elif path.is_file():
            out.append(path)
        else:
            errors(say("missing", lang, path=name))
    seen: set = set()
    return [p for p in out if not (p.resolve() in seen or seen.add(p.resolve()))]


def run(paths: list[str], check: bool, lang: str, out=None, err=None, stdin=None) -> int:
    """Format (or check) the files; messages and diffs to `out`, problems to `err`."""
    out = out or sys.stdout
    err = err or sys.stderr
    report = Report()

    def problem(message: str) -> None:
        report.failed = True
        err.write(f"rulebook fmt: {message}\n")

    if paths == ["-"]:
        raw = (stdin or sys.stdin.buffer).read()
        _one("<stdin>", raw, None, check, lang, out, err, report, problem)
        return report.exit_code(check)
    for path in rule_files(paths, lang, problem):
        try:
            raw = path.read_bytes()
        except OSError as error:
            problem(say("unreadable", lang, path=path, reason=error.strerror or error))
            continue
        _one(str(path), raw, path, check, lang, out, err, report, problem)
    if check and report.changed:
        err.write(say("unformatted", lang, count=len(report.changed)) + "\n")
    return report.exit_code(check)


def _one(shown: str, raw: bytes, path: Path | None, check: bool, lang: str, out, err, report: Report,
         problem) -> None:
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        problem(say("not_utf8", lang, path=shown))
        return
    formatted, diagnostics = format_source(Source(shown, text))
    if formatted is None:
        for diagnostic in diagnostics:
            err.write("\n".join(map(visible, diagnostic.render(lang=lang).split("\n"))) + "\n")
        problem(say("not_parsed", lang, path=shown))
        return
    if path is None and not check:  # standard input: the formatted text to standard output
        out.write(formatted)
        return
    if formatted == text:
        return
    report.changed.append(shown)
    if check:
        diff = difflib.unified_diff(text.splitlines(True), formatted.splitlines(True), shown, f"{shown} (formatted)")
        out.write("".join(visible(line.rstrip("\n")) + "\n" for line in diff))
        return
    try:
        _replace(path, formatted)
    except OSError as error:
        problem(say("unwritable", lang, path=shown, reason=error.strerror or error))
        return
    out.write(say("formatted", lang, path=shown) + "\n")


def _replace(path: Path, text: str) -> None:
    """Write the file whole or not at all, keeping its permissions."""
    mode = path.stat().st_mode & 0o7777
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
