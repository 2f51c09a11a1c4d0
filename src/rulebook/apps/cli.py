"""The `rulebook` command: check cases, print the schema and the catalogue, test the rulebook.

Exit codes of `rulebook check`: 0 every case eligible, 1 some case ineligible,
3 none ineligible but some incomplete, 2 bad usage or invalid input (the other
cases are still judged and printed).
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path

import click
import orjson

from ..language.message import Message, text_in
from ..output import vocabulary
from ..output.terminal import visible
from .wording import Main, said

EXIT_ELIGIBLE, EXIT_INELIGIBLE, EXIT_INVALID, EXIT_INCOMPLETE = 0, 1, 2, 3


def _say(text: str, err: bool = False, lang: str = "en") -> None:
    """A line for a person (a Message in `lang`), with any control or bidi character of the
    text it shows escaped."""
    click.echo(visible(text_in(text, lang)), err=err)


def _use_color(stream) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return hasattr(stream, "isatty") and stream.isatty()


def _load_book(rules: str | None, lang: str = "ja"):
    from ..language.diagnostic import RulebookError
    from ..book import load

    try:
        return load(rules)
    except RulebookError as error:
        click.echo(error.render(color=_use_color(sys.stderr), lang=lang), err=True)
        sys.exit(EXIT_INVALID)


def _date(ctx, param, value):
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(NOT_A_DATE.format(value=value)) from None


NOT_A_DATE = "`{value}` is not a date; write YYYY-MM-DD"  # its Japanese: wording.CLICK


def _dump(obj, pretty: bool) -> str:
    """JSON for the terminal: what JSON leaves raw in its strings (C1 controls, bidi marks) is
    escaped, line by line, so the JSON means the same."""
    from ..input.snapshot import dumps_json

    option = orjson.OPT_INDENT_2 if pretty else 0
    return "\n".join(map(visible, dumps_json(obj, option=option).decode().split("\n")))


rules_option = click.option("--rules", "rules", metavar="DIR", default=None,
                            help="A rulebook folder (default: the program's bundled rulebook).")
lang_option = click.option("--lang", type=click.Choice(["ja", "en"]), default="ja", show_default=True,
                           help="Language of the messages.")


@click.group(cls=Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="rulebook")
def main():
    """rulebook: judge support cases against the program's requirements, with explanations."""


@main.command()
@click.argument("cases", nargs=-1, required=True, metavar="CASE...")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "jsonl"]), default="text", show_default=True)
@click.option("--lang", type=click.Choice(["ja", "en"]), default="ja", show_default=True,
              help="Language of the text output.")
@click.option("--as-of", "as_of", metavar="DATE", callback=_date, help="Judge the cases on this day.")
@click.option("--color/--no-color", default=None, help="Colour the text (default: on a terminal, unless NO_COLOR).")
@rules_option
def check(cases, fmt, lang, as_of, color, rules):
    """Judge case snapshots (YAML, JSON or JSON Lines files, folders, or - for stdin)."""
    from ..input.documents import load_path, load_stream

    book = _load_book(rules, lang)
    color = _use_color(sys.stdout) if color is None else color
    results = []

    def documents():
        for name in cases:
            if name == "-":
                yield from load_stream(sys.stdin.buffer, "<stdin>")
            else:
                yield from load_path(name)

    out = sys.stdout
    from ..output.render import render_error, render_verdict

    first = True
    collected: list = []
    for doc in documents():
        if doc.error is not None:
            report = doc.refusal()
        else:
            report = book.judge(doc.data, as_of, origin=doc.location.origin, line=doc.location.line,
                                locate=doc.locate)
        results.append(report["format"] == "rulebook.verdict/v1" and report["verdict"] or "invalid")
        if fmt == "jsonl":
            out.write(_dump(report, False) + "\n")
        elif fmt == "json":
            collected.append(report)
        else:
            if not first:
                out.write("\n" + "─" * 60 + "\n\n")
            first = False
            if report["format"] == "rulebook.verdict/v1":
                out.write(render_verdict(report, book.plan.stages, lang, color, book.amount_titles) + "\n")
            else:
                out.write(render_error(report, lang, color) + "\n")
        out.flush()
    if fmt == "json" and collected:
        body = collected[0] if len(collected) == 1 else collected
        out.write(_dump(body, True) + "\n")
    if not results:
        _say(said("no_case"), err=True, lang=lang)
        sys.exit(EXIT_INVALID)
    sys.exit(_exit_code(results))


def _exit_code(verdicts: list[str]) -> int:
    if "invalid" in verdicts:
        return EXIT_INVALID
    if "ineligible" in verdicts:
        return EXIT_INELIGIBLE
    if "incomplete" in verdicts:
        return EXIT_INCOMPLETE
    return EXIT_ELIGIBLE


@main.command()
@click.argument("inputs", nargs=-1, required=True, metavar="INPUT...")
@click.option("--out", "out", required=True, metavar="DIR", help="The folder the audit writes into.")
@click.option("--jobs", type=click.IntRange(min=1), default=None, help="Worker processes (default: every core).")
@click.option("--compact", is_flag=True, help="results.jsonl keeps rule, subject, status and facts, not the texts.")
@click.option("--lang", type=click.Choice(["ja", "en"]), default="ja", show_default=True,
              help="Language of report.html and cases.csv.")
@click.option("--as-of", "as_of", metavar="DATE", callback=_date, help="Judge every case on this day.")
@click.option("--resume", is_flag=True, help="Finish an audit that was interrupted, from its last checkpoint.")
@click.option("--since", metavar="PREVIOUS_DIR", type=click.Path(file_okay=False), default=None,
              help="Also say what changed since an earlier audit.")
@click.option("--dask", metavar="ADDRESS", default=None,
              help="Run on a Dask cluster: tcp://HOST:8786, or `local` for a LocalCluster.")
@click.option("--hours-per-day", type=click.FloatRange(min=0, min_open=True), default=None,
              help="More hours than this on one day for one expert is flagged as implausible "
                   "(default: the rulebook's parameter `hours_per_day`, 24).")
@click.option("--progress/--no-progress", default=None, help="A progress bar (default: on a terminal).")
@click.option("--chunk-size", type=click.IntRange(min=1), default=1024, show_default=True,
              help="Inputs judged together; a checkpoint follows each chunk.")
@click.option("--timings", metavar="FILE", default=None, hidden=True,
              help="Write the CPU seconds spent by stage, as JSON (for the benchmark).")
@rules_option
def audit(inputs, out, jobs, compact, lang, as_of, resume, since, dask, hours_per_day, progress, chunk_size, rules,
          timings):
    """Audit a batch: JSON Lines (plain or .gz), folders of YAML/JSON files, or several of these.

    Writes results.jsonl, errors.jsonl, summary.json (with the findings of the rules over the batch),
    report.html, cases.csv and findings.csv into DIR.
    Exit status: 0 all eligible, 1 some ineligible, 3 some incomplete, 2 some input invalid or the
    audit could not run."""
    from .audit import AuditError, Options, run

    _load_book(rules, lang)  # a bad rulebook is reported before any work starts
    options = Options(inputs=list(inputs), out=Path(out), jobs=jobs or 0, compact=compact, lang=lang,
                      as_of=as_of, rules=rules, resume=resume, since=Path(since) if since else None,
                      dask=dask, hours_bound=hours_per_day, progress=progress, chunk=chunk_size)
    try:
        outcome = run(options)
    except AuditError as error:
        for line in error.lines(lang):  # in both languages, the report's first
            _say(f"rulebook audit: {line}", err=True)
        sys.exit(EXIT_INVALID)
    if timings:
        Path(timings).write_bytes(orjson.dumps({"cases": outcome.cases, "errors": outcome.errors,
                                                "cpu": outcome.timings,
                                                "wall": outcome.timings.wall}))
    for rule, why in outcome.not_evaluated.items():
        _say(said("batch_rule_not_evaluated", rule=rule, reason=Message(why["en"], why["ja"])), err=True, lang=lang)
    verdicts = outcome.verdicts
    _say(said("audited", cases=outcome.cases, eligible=verdicts.get("eligible", 0), invalid=outcome.errors,
              incomplete=verdicts.get("incomplete", 0), ineligible=verdicts.get("ineligible", 0), out=out),
         err=True, lang=lang)
    sys.exit(outcome.exit_code)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8000, show_default=True)
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--api-key-file", type=click.Path(exists=True, dir_okay=False), default=None,
              help="A file of API keys, one a line: requests without one of them get 401.")
@click.option("--max-body", type=click.IntRange(min=1), default=1024 * 1024, show_default=True,
              help="The largest snapshot accepted by POST /v1/check, in bytes (413 above).")
@rules_option
@lang_option
def serve(host, port, workers, api_key_file, max_body, rules, lang):
    """Serve the HTTP validator and the self-service page (FastAPI on uvicorn)."""
    _load_book(rules, lang)  # a bad rulebook is reported before the server starts
    import uvicorn

    os.environ["RULEBOOK_MAX_BODY"] = str(max_body)
    if api_key_file:
        os.environ["RULEBOOK_API_KEY_FILE"] = os.path.abspath(api_key_file)
    if rules:
        os.environ["RULEBOOK_RULES"] = os.path.abspath(rules)
    uvicorn.run("rulebook.apps.service:app_from_environment", factory=True, host=host, port=port, workers=workers,
                access_log=False, log_level="warning")


@main.command()
@click.argument("events", required=False, default="-", metavar="[EVENTS]")
@click.option("--follow", "-f", is_flag=True, help="At the end of EVENTS, wait for more lines (like tail -f).")
@click.option("--live", is_flag=True,
              help="Time is the system clock (events may leave out `at`); else the events' `at` (replay).")
@click.option("--remind-days", type=click.IntRange(min=0), default=3, show_default=True,
              help="Remind this many days before a pending requirement's last day.")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "text"]), default="jsonl", show_default=True)
@click.option("--lang", type=click.Choice(["ja", "en"]), default="ja", show_default=True, help="For --format text.")
@click.option("--out", "out", metavar="FILE", default=None, help="Write the alerts there (default: stdout).")
@click.option("--errors", "errors_to", metavar="FILE", default=None,
              help="Write the bad events' error lines there (default: stderr).")
@rules_option
def watch(events, follow, live, remind_days, fmt, lang, out, errors_to, rules):
    """Watch case events (JSON Lines, or - for stdin) and print an alert whenever a case's standing
    changes or a pending requirement's last day moves, and reminders before last days.

    An event is {"case_id", "at", "set": {PATH: VALUE}} or {"case_id", "at", "snapshot": {...}}.
    Bad events are error lines (rulebook.error/v1) and are skipped. Exit code 2 if there were any."""
    from ..input.documents import load_stream
    from ..input.messages import os_reason
    from ..input.snapshot import dumps_json
    from .watch import Watcher, follow as followed, run

    book = _load_book(rules, lang)
    watcher = Watcher(book, remind_days, live)
    origin = "<stdin>" if events == "-" else events
    try:
        handle = sys.stdin.buffer if events == "-" else open(events, "rb")
    except OSError as error:
        _say(said("cannot_read", path=events, reason=os_reason(error.strerror)), err=True, lang=lang)
        sys.exit(EXIT_INVALID)
    try:
        alerts_out = open(out, "w", encoding="utf-8") if out else sys.stdout
        errors_out = open(errors_to, "w", encoding="utf-8") if errors_to else sys.stderr
    except OSError as error:
        _say(said("cannot_write", path=error.filename, reason=os_reason(error.strerror)), err=True, lang=lang)
        sys.exit(EXIT_INVALID)

    def emit(item: dict) -> None:
        stream = alerts_out if item["format"] == "rulebook.alert/v1" else errors_out
        if fmt == "text" and stream is alerts_out:
            stream.write(visible(_alert_text(item, lang)) + "\n")
        else:
            stream.write(visible(dumps_json(item).decode()) + "\n")
        stream.flush()

    def tick() -> None:
        for item in watcher.advance(watcher.now().day):
            emit(item)

    stream = followed(handle.fileno(), tick if live else (lambda: None)) if follow else handle
    try:
        if live:
            tick()
        _alerts, errors = run(watcher, load_stream(stream, origin, "jsonl", require_document=False), emit)
    except KeyboardInterrupt:
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(0)
    sys.exit(EXIT_INVALID if errors else 0)


def _alert_text(alert: dict, lang: str) -> str:
    kind = alert["kind"]
    words = vocabulary.STATUS[lang]
    if kind == "change":
        arrow = f"{words.get(alert['from'], '-')} → {words.get(alert['to'], alert['to'])}"
    elif kind == "due":
        arrow = said("last_day_moved", due=alert["due"]).text(lang)
    else:
        arrow = said("reminder").text(lang)
    text = f"{alert['at']}  {alert['case_id']}  {alert['rule']} {alert['subject']}  {arrow}: {alert['message'][lang]}"
    if alert.get("fix"):
        text += f"  → {alert['fix'][lang]}"
    return text


@main.command()
@rules_option
@lang_option
def schema(rules, lang):
    """Print the JSON Schema of the case snapshot."""
    book = _load_book(rules, lang)
    click.echo(_dump(book.json_schema(), True))


@main.command(name="rules")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--lang", type=click.Choice(["ja", "en"]), default="ja", show_default=True)
@rules_option
def rules_command(fmt, lang, rules):
    """List the rulebook's catalogue: ids, titles and source sentences; the rules over a batch's
    cases (which `rulebook audit` evaluates, not `check`) last, marked `batch`."""
    book = _load_book(rules, lang)
    catalogue, batch = book.catalogue(), book.batch_catalogue()
    if fmt == "json":
        click.echo(_dump(catalogue + batch, True))
        return
    stages = {name: titles.get(lang, name) for name, titles in book.plan.stages}
    counted = said("rules_counted", count=len(catalogue)).text(lang) \
        + (said("batch_rules_counted", count=len(batch)).text(lang) if batch else "")
    _say(f"{book.name} {book.version} ({counted})")
    for entry in catalogue + batch:
        subject = entry["subject"] if entry["subject"] != "batch" else \
            said("batch_subject", over=entry["over"], keys=", ".join(entry["keys"])).text(lang)
        _say("")
        _say(f"{entry['rule']}  [{subject}]  {stages.get(entry['stage'], entry['stage'])}".rstrip())
        _say(f"    {entry['title'][lang]}")
        ref = f"  ({entry['source']['ref']})" if entry["source"]["ref"] else ""
        _say(f"    「{entry['source']['text']}」{ref}")


@main.command(name="test")
@click.argument("folder", required=False, default=None, metavar="[RULES_DIR]")
@click.option("--require-coverage", is_flag=True, help="Fail when a clause of a rule is reached by no test.")
@lang_option
def test_command(folder, require_coverage, lang):
    """Run the rulebook's YAML test cases (RULES_DIR/tests/*.yaml) and report clause coverage."""
    from ..book import bundled_rules
    from .testing import clause_count, run_tests, unreached

    path = Path(folder) if folder else bundled_rules()
    book = _load_book(str(path), lang)
    report = run_tests(book, path)
    for problem in report.problems:
        first, *more = text_in(problem, lang).split("\n")  # a help, on lines of its own
        _say(said("test_error", problem=first), err=True, lang=lang)
        for line in more:
            _say(line, err=True)
    for outcome in report.failed:
        _say(said("test_fail", file=outcome.file, line=outcome.line, note=outcome.note), lang=lang)
        for failure in outcome.failures:
            _say(f"     {text_in(failure, lang)}")
    missing = unreached(book, report.reached)
    total = clause_count(book)
    passed = len(report.outcomes) - len(report.failed)
    count = len(report.problems)
    unread = said("test_unread", count=count, s="s" if count != 1 else "") if count else ""
    _say(said("test_counts", cases=len(report.outcomes), passed=passed, failed=len(report.failed), unread=unread),
         lang=lang)
    _say(said("test_coverage", reached=total - len(missing), total=total), lang=lang)
    for rule, number, status, where in missing:
        _say(said("test_not_reached", rule=rule, number=number, status=status, where=where), lang=lang)
    failed = bool(report.failed or report.problems or (require_coverage and missing))
    sys.exit(1 if failed else 0)


# ------------------------------------------------------- for the rules' authors


@main.command(name="fmt")
@click.argument("paths", nargs=-1, metavar="[PATH...]")
@click.option("--check", is_flag=True, help="Change nothing: show a diff of each file not formatted, exit 1 if any.")
@click.option("--lang", type=click.Choice(["ja", "en"]), default="ja", show_default=True,
              help="Language of the messages.")
def fmt_command(paths, check, lang):
    """Rewrite rule files (PATH: files or folders; default `.`; - for stdin) in the canonical
    layout, keeping every comment. Exit status: 0 formatted, 1 with --check some file is not,
    2 some file does not parse or cannot be read or written."""
    from .fmt import run

    sys.exit(run(list(paths) or ["."], check, lang))


@main.command(name="diff")
@click.argument("old", metavar="OLD")
@click.argument("new", metavar="NEW")
@click.argument("cases", nargs=-1, required=True, metavar="CASES...")
@click.option("--out", "out", metavar="DIR", default=None,
              help="Also write diff.json, changes.csv and report.html into DIR.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--lang", type=click.Choice(["ja", "en"]), default="ja", show_default=True,
              help="Language of the text, the page and the spreadsheet.")
@click.option("--as-of", "as_of", metavar="DATE", callback=_date,
              help="Judge the cases on this day on both sides (a side's @DATE comes first).")
@click.option("--jobs", type=click.IntRange(min=1), default=None, help="Worker processes (default: every core).")
@click.option("--top", type=click.IntRange(min=0), default=20, show_default=True,
              help="Cases listed where the most money moved.")
@rules_option
def diff_command(old, new, cases, out, fmt, lang, as_of, jobs, top, rules):
    """Judge the cases under two rulebooks and show what changes: verdicts, results, money.

    OLD and NEW: a rulebook folder; git:REV (rules/ at a git revision), git:REV:PATH or REV:PATH;
    or nothing, the --rules rulebook; each may end with @YYYY-MM-DD, the day its cases are judged
    on (`rulebook diff @2021-02-01 @2021-03-01 cases/`). CASES as for `check`.
    Exit status: 0 nothing changed, 1 something did, 2 bad usage or a rulebook with errors."""
    from ..language.diagnostic import RulebookError
    from .diff import DiffError, Options, run

    options = Options(old, new, list(cases), Path(out) if out else None, fmt, lang, as_of, rules, jobs or 0, top=top)
    try:
        code = run(options)
    except DiffError as error:
        click.echo(f"rulebook diff: {error}", err=True)
        sys.exit(EXIT_INVALID)
    except RulebookError as error:
        click.echo(error.render(color=_use_color(sys.stderr), lang=lang), err=True)
        sys.exit(EXIT_INVALID)
    except BrokenPipeError:
        sys.exit(0)
    sys.exit(code)


@main.command(name="lsp")
def lsp_command():
    """A language server for the rule files over stdio (diagnostics, hover, go to definition,
    completion), for any editor that speaks LSP."""
    from .lsp import main as serve_lsp

    serve_lsp()


if __name__ == "__main__":  # pragma: no cover
    main()
