"""`rulebook lsp` end to end: a real LSP client (pytest-lsp) starts the server over stdio and
talks to it as an editor does: diagnostics as a file is typed (the same codes, positions and
hints as `rulebook check`), across the folder; hover; go to definition; completion."""

from __future__ import annotations

import asyncio
import shutil
import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types as lsp
from pygls.uris import from_fs_path
from pygls.protocol import default_converter
from pytest_lsp import ClientServerConfig, LanguageClient
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, register_lsp_features

from rulebook.book import build, read_sources
from rulebook.language.diagnostic import RulebookError

from ..conftest import ROOT

WAIT = 60  # seconds: a bound on waiting for the server's answer, not a pause


@pytest.fixture
def folder(tmp_path) -> Path:
    target = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", target, ignore=shutil.ignore_patterns("tests"))
    return target


def make_client() -> LanguageClient:
    """pytest-lsp's client, whose diagnostics handler also sets an event: a test waits for it."""
    client = LanguageClient(converter_factory=default_converter)
    client.published = asyncio.Event()

    def publish(client: LanguageClient, params: lsp.PublishDiagnosticsParams) -> None:
        client.diagnostics[params.uri] = params.diagnostics
        client.published.set()

    register_lsp_features(client, {**DEFAULT_CLIENT_FEATURES, lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS: publish})
    return client


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "rulebook.apps.cli", "lsp"],
                                              client_factory=make_client))
async def client(lsp_client: LanguageClient):
    await lsp_client.initialize_session(lsp.InitializeParams(capabilities=lsp.ClientCapabilities(),
                                                             initialization_options={"lang": "en"}))
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "rulebook.apps.cli", "lsp"],
                                              client_factory=make_client))
async def client_ja(lsp_client: LanguageClient):
    """A client that says nothing of the language: the server speaks Japanese."""
    await lsp_client.initialize_session(lsp.InitializeParams(capabilities=lsp.ClientCapabilities()))
    yield
    await lsp_client.shutdown_session()


def uri(path: Path) -> str:
    return from_fs_path(str(path.resolve()))


def open_file(client: LanguageClient, path: Path, text: str | None = None) -> str:
    text = path.read_text(encoding="utf-8") if text is None else text
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(
        text_document=lsp.TextDocumentItem(uri=uri(path), language_id="rulebook", version=1, text=text)))
    return text


def change_file(client: LanguageClient, path: Path, text: str, version: int = 2) -> None:
    client.text_document_did_change(lsp.DidChangeTextDocumentParams(
        text_document=lsp.VersionedTextDocumentIdentifier(uri=uri(path), version=version),
        content_changes=[lsp.TextDocumentContentChangeWholeDocument(text=text)]))


async def diagnostics(client: LanguageClient, path: Path, settled) -> list[lsp.Diagnostic]:
    """The diagnostics of a file once `settled(diagnostics)` holds: each notification is awaited."""
    key = uri(path)

    async def until():
        while True:
            client.published.clear()  # before looking: a notification after this sets it again
            if key in client.diagnostics and settled(list(client.diagnostics[key])):
                return list(client.diagnostics[key])
            await client.published.wait()

    return await asyncio.wait_for(until(), WAIT)


def position(text: str, needle: str, shift: int = 0) -> lsp.Position:
    """The LSP position (UTF-16 columns) of `needle` in `text`, plus `shift` characters."""
    offset = text.index(needle) + shift
    line = text.count("\n", 0, offset)
    start = text.rfind("\n", 0, offset) + 1
    return lsp.Position(line=line, character=len(text[start:offset].encode("utf-16-le")) // 2)


@pytest.mark.asyncio
async def test_diagnostics_as_a_file_is_typed(client: LanguageClient, folder: Path):
    steps = folder / "steps.rules"
    text = open_file(client, steps)
    assert await diagnostics(client, steps, lambda found: found == []) == []
    broken = text.replace("step.report_submitted_on is set then fail",
                          "step.report_submited_on is set then fail", 1)
    change_file(client, steps, broken)
    found = await diagnostics(client, steps, lambda found: len(found) > 0)
    # The same as `rulebook check` says of the same files: codes, places, messages, labels, hints.
    (steps.parent / "steps.rules").write_text(broken, encoding="utf-8")
    with pytest.raises(RulebookError) as caught:
        build(read_sources(folder)[0])
    expected = caught.value.diagnostics
    assert [d.code for d in found] == [d.code for d in expected] == ["RB201", "RB302", "RB302"]
    for lsp_diagnostic, diagnostic in zip(found, expected):
        assert lsp_diagnostic.source == "rulebook"
        assert lsp_diagnostic.message == f"{diagnostic.message} ({diagnostic.label})\nhelp: {diagnostic.help}"
        assert lsp_diagnostic.data == {"key": diagnostic.key, "messages": diagnostic.messages()}
        start = position(broken, diagnostic.span.text, 0) if diagnostic.code == "RB201" else None
        line, column = diagnostic.span.source.position(diagnostic.span.start)
        assert lsp_diagnostic.range.start.line == line - 1
        prefix = diagnostic.span.source.line_text(line)[: column - 1]
        assert lsp_diagnostic.range.start.character == len(prefix.encode("utf-16-le")) // 2
        if start is not None:
            assert lsp_diagnostic.range.start == start
            assert lsp_diagnostic.range.end == lsp.Position(start.line, start.character + len("report_submited_on"))
    assert "did you mean `report_submitted_on`?" in found[0].message
    change_file(client, steps, text, version=3)
    assert await diagnostics(client, steps, lambda found: found == []) == []


@pytest.mark.asyncio
async def test_diagnostics_in_japanese_by_default(client_ja: LanguageClient, folder: Path):
    """Without `{"lang": "en"}` the message, label and hint are the catalogue's Japanese; the
    diagnostic's data holds both languages."""
    steps = folder / "steps.rules"
    text = open_file(client_ja, steps)
    await diagnostics(client_ja, steps, lambda found: found == [])
    change_file(client_ja, steps, text.replace("step.report_submitted_on is set then fail",
                                               "step.report_submited_on is set then fail", 1))
    found = await diagnostics(client_ja, steps, lambda found: len(found) > 0)
    assert found[0].code == "RB201"
    assert found[0].message == ("step に `report_submited_on` というフィールドはありません (step のフィールドではありません)\n"
                                "ヒント: `report_submitted_on` のことですか?")
    assert found[0].data["messages"]["en"]["message"] == "unknown field `report_submited_on` on step"
    assert found[0].data["messages"]["ja"]["help"] == "`report_submitted_on` のことですか?"


@pytest.mark.asyncio
async def test_a_change_in_the_schema_reaches_the_other_files(client: LanguageClient, folder: Path):
    steps, schema = folder / "steps.rules", folder / "schema.rules"
    open_file(client, steps)
    await diagnostics(client, steps, lambda found: found == [])
    text = open_file(client, schema)
    change_file(client, schema, text.replace("  delay_report_submitted_on: optional date\n", ""))
    found = await diagnostics(client, steps, lambda found: len(found) > 0)
    assert {d.code for d in found} == {"RB201"}
    assert all("delay_report_submitted_on" in d.message for d in found)
    change_file(client, schema, text, version=3)
    assert await diagnostics(client, steps, lambda found: found == []) == []


@pytest.mark.asyncio
async def test_a_syntax_error_where_wide_characters_come_first(client: LanguageClient, folder: Path):
    case = folder / "case.rules"
    text = open_file(client, case)
    broken = text.replace('title ja "制度利用の同意"', 'title ja "制度利用の同意" @', 1)
    change_file(client, case, broken)
    (found,) = await diagnostics(client, case, lambda found: len(found) > 0)
    assert found.code == "RB101"
    assert found.range.start == position(broken, "@")  # UTF-16 columns, after Japanese text


@pytest.mark.asyncio
async def test_hover(client: LanguageClient, folder: Path):
    steps = folder / "steps.rules"
    text = open_file(client, steps)
    await diagnostics(client, steps, lambda found: found == [])

    async def hover(needle: str, shift: int = 0) -> str:
        result = await client.text_document_hover_async(lsp.HoverParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri(steps)), position=position(text, needle, shift)))
        assert result is not None, needle
        return result.contents.value

    field = await hover("step.photos where photo.moment", len("step."))
    assert "**field** `photos`" in field and "step.photos: list of photo" in field
    parameter = await hover("+ report_deadline", 2)
    assert "**parameter** `report_deadline`" in parameter and "10 days from 2020-04-01" in parameter
    assert "ja: 支援報告書の提出期限(完了報告から)" in parameter and "※原則完了報告から10日以内" in parameter
    rule = await hover("rule step.photos", len("rule "))
    assert "**rule** `step.photos`" in rule and "ja: 開始時・終了時の写真" in rule and "seed §手順" in rule
    variable = await hover('photo.moment = "start"')
    assert "**variable** `photo`" in variable and "type: `photo`" in variable
    schema_text = (folder / "schema.rules").read_text(encoding="utf-8")
    assert "program_consent_on: optional date  # 制度利用の同意" in schema_text
    case = folder / "case.rules"
    case_text = open_file(client, case)
    result = await client.text_document_hover_async(lsp.HoverParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri(case)),
        position=position(case_text, "lancers.program_consent_on is set", len("lancers."))))
    assert "lancers.program_consent_on: optional date" in result.contents.value
    assert "制度利用の同意" in result.contents.value  # the schema's comment
    # a table of records: its rows, one a line
    result = await client.text_document_hover_async(lsp.HoverParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri(case)),
        position=position(case_text, "sme_size_limits[sme.industry]")))
    shown = result.contents.value
    assert "**parameter** `sme_size_limits`" in shown and "table of size_limit by text" in shown
    assert "- from 2020-04-01:" in shown
    assert '\n    "retail": {capital_jpy: 50000000 yen, employees: 50}\n' in shown
    # a list of records, in the payout
    payout = folder / "payout.rules"
    payout_text = open_file(client, payout)
    found = await client.text_document_hover_async(lsp.HoverParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri(payout)),
        position=position(payout_text, "in platform_fee_tiers", 3)))
    assert "{over_jpy: 0 yen, up_to_jpy: 100000 yen, rate: 20%}" in found.contents.value
    # an amount read by `previous`: its formula and title
    found = await client.text_document_hover_async(lsp.HoverParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri(payout)),
        position=position(payout_text, "previous fee_to_date_jpy", len("previous "))))
    assert "**amount** `fee_to_date_jpy`" in found.contents.value
    assert "ja: このステップまでの手数料の累計(見込み)" in found.contents.value


@pytest.mark.asyncio
async def test_go_to_definition(client: LanguageClient, folder: Path):
    payout, steps = folder / "payout.rules", folder / "steps.rules"
    payout_text = open_file(client, payout)
    steps_text = open_file(client, steps)
    await diagnostics(client, steps, lambda found: found == [])

    async def definition(path: Path, text: str, needle: str, shift: int = 0) -> lsp.Location:
        found = await client.text_document_definition_async(lsp.DefinitionParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri(path)), position=position(text, needle, shift)))
        assert found is not None, needle
        return found

    previous = await definition(payout, payout_text, "previous paid_to_date_jpy", len("previous "))
    assert previous.uri == uri(payout) and previous.range.start == position(payout_text, "amount paid_to_date_jpy")
    claim = await definition(payout, payout_text, "except claim.honorarium", len("except "))
    case_text = (folder / "case.rules").read_text(encoding="utf-8")
    assert claim.uri == uri(folder / "case.rules") and claim.range.start == position(case_text, "claim.honorarium on")
    fee = await definition(payout, payout_text, "in platform_fee_tiers", 3)
    parameters_text = (folder / "parameters.rules").read_text(encoding="utf-8")
    assert fee.uri == uri(folder / "parameters.rules")
    assert fee.range.start == position(parameters_text, "parameter platform_fee_tiers")
    hours = await definition(steps, steps_text, "step.hours\n", len("step."))
    schema_text = (folder / "schema.rules").read_text(encoding="utf-8")
    assert hours.uri == uri(folder / "schema.rules") and hours.range.start == position(schema_text, "hours: hours")
    let = await definition(steps, steps_text, "{minimum_jpy}(", 1)
    assert let.uri == uri(steps) and let.range.start == position(steps_text, "let minimum_jpy")
    record = await definition(folder / "schema.rules", open_file(client, folder / "schema.rules"),
                              "list of photo", len("list of "))
    assert record.range.start == position(schema_text, "record photo")


@pytest.mark.asyncio
async def test_completion(client: LanguageClient, folder: Path):
    steps = folder / "steps.rules"
    text = open_file(client, steps)
    await diagnostics(client, steps, lambda found: found == [])
    typing = text + "\nrule step.new on each step\n  when step."
    change_file(client, steps, typing)
    await diagnostics(client, steps, lambda found: len(found) > 0)  # it does not parse yet

    async def complete(at: lsp.Position) -> dict[str, lsp.CompletionItem]:
        result = await client.text_document_completion_async(lsp.CompletionParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri(steps)), position=at))
        return {item.label: item for item in result.items}

    lines = typing.split("\n")
    fields = await complete(lsp.Position(line=len(lines) - 1, character=len(lines[-1])))
    assert fields["report_submitted_on"].detail == "optional date"
    assert fields["report_submitted_on"].kind == lsp.CompletionItemKind.Field
    assert "report_deadline" not in fields
    words = await complete(lsp.Position(line=len(lines) - 1, character=2))
    assert {"when", "otherwise", "message", "report_deadline", "as_of", "step"} <= set(words)
    assert words["report_deadline"].kind == lsp.CompletionItemKind.Constant
    photo = text.replace("photo.moment = \"start\"", "photo.", 1)
    change_file(client, steps, photo, version=3)
    at = position(photo, "photo.\n", len("photo."))
    assert {"moment", "shows_sme", "setting"} <= set(await complete(at))
