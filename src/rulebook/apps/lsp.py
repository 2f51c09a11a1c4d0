"""`rulebook lsp`: a language server over stdio (pygls) for the rule files.

As a file is typed, the rulebook folder it belongs to is analysed again — its `.rules` files on
disk, with the open editors' text in place of theirs — and every file of the folder gets the
diagnostics `rulebook check` would give (codes, positions, labels and hints), so a change to
`schema.rules` shows up in the rules that read it. Hover shows a field's type and its comment in
the schema, a parameter's values by date and its source, a rule's title and source sentence; go
to definition finds fields, records, parameters, rule ids, `let`s and variables; completion
offers the fields after `path.`, else the names in scope and the keywords.

The folder of a file is the nearest folder above it that holds `rulebook.rules` (else its own).
The server's own words (hover headings) are Japanese unless the client's initialization options
say `{"lang": "en"}`.
"""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types as lsp
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path

from .. import __version__
from ..language.diagnostic import Diagnostic
from ..language.lookup import Index, Target, analyse, completions, lookup
from ..language.source import Source, Span

SUFFIX = ".rules"
HEADER_FILE = "rulebook.rules"

WORDS = {
    "ja": {"field": "フィールド", "record": "レコード", "parameter": "パラメータ", "rule": "要件", "let": "let",
           "variable": "変数", "step": "ステップ", "amount": "金額", "builtin": "組み込みの名前", "type": "型",
           "help": "ヒント"},
    "en": {"field": "field", "record": "record", "parameter": "parameter", "rule": "rule", "let": "let",
           "variable": "variable", "step": "step", "amount": "amount", "builtin": "built-in name", "type": "type",
           "help": "help"},
}
_COMPLETION_KINDS = {"field": lsp.CompletionItemKind.Field, "parameter": lsp.CompletionItemKind.Constant,
                     "let": lsp.CompletionItemKind.Variable, "variable": lsp.CompletionItemKind.Variable,
                     "keyword": lsp.CompletionItemKind.Keyword, "amount": lsp.CompletionItemKind.Value,
                     "builtin": lsp.CompletionItemKind.Variable}


class RulebookServer(LanguageServer):
    def __init__(self):
        super().__init__("rulebook", __version__, text_document_sync_kind=lsp.TextDocumentSyncKind.Full)
        self.lang = "ja"
        self.indexes: dict[Path, Index] = {}  # rulebook folder → its last analysis
        self.published: dict[Path, set[str]] = {}  # rulebook folder → uris given diagnostics

    # ------------------------------------------------------------ folders
    def folder_of(self, path: Path) -> Path:
        for folder in [path.parent, *path.parent.parents]:
            if (folder / HEADER_FILE).is_file():
                return folder
        return path.parent

    def sources(self, folder: Path) -> list[Source]:
        """The folder's rule files, the open editors' text in place of what is on disk."""
        texts: dict[Path, str] = {}
        for file in sorted(folder.rglob(f"*{SUFFIX}")):
            try:
                texts[file.resolve()] = file.read_bytes().decode("utf-8-sig")
            except (OSError, UnicodeDecodeError):
                continue
        for uri, document in self.workspace.text_documents.items():
            path = _path(uri)
            if path is not None and path.suffix == SUFFIX and _within(path, folder):
                texts[path.resolve()] = document.source
        return [Source(str(path), text) for path, text in sorted(texts.items())]

    def analyse(self, folder: Path) -> Index:
        index, diagnostics = analyse(self.sources(folder))
        self.indexes[folder] = index
        by_file: dict[str, list[lsp.Diagnostic]] = {path: [] for path in index.sources}
        for diagnostic in diagnostics:
            path = diagnostic.span.source.path if diagnostic.span else None
            if path not in by_file:
                path = next(iter(by_file), None)
            if path is not None:
                by_file[path].append(self.to_lsp(diagnostic))
        uris = {from_fs_path(path): items for path, items in by_file.items()}
        for uri in self.published.get(folder, set()) - set(uris):
            uris[uri] = []
        self.published[folder] = set(uris)
        for uri, items in uris.items():
            self.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri=uri, diagnostics=items))
        return index

    def index_for(self, uri: str) -> tuple[Index | None, str | None]:
        path = _path(uri)
        if path is None:
            return None, None
        folder = self.folder_of(path)
        index = self.indexes.get(folder) or self.analyse(folder)
        return index, str(path.resolve())

    # ---------------------------------------------------------- positions
    def position(self, source: Source, offset: int) -> lsp.Position:
        line, column = source.position(offset)
        text = source.line_text(line)[: column - 1]
        return lsp.Position(line=line - 1, character=self.workspace.position_codec.client_num_units(text))

    def range(self, span: Span) -> lsp.Range:
        return lsp.Range(start=self.position(span.source, span.start),
                         end=self.position(span.source, max(span.start, span.end)))

    def offset(self, source: Source, position: lsp.Position) -> int:
        lines = source.text.split("\n")
        if position.line >= len(lines):
            return len(source.text)
        line = lines[position.line]
        units, column = 0, 0
        while column < len(line) and units < position.character:
            units += self.workspace.position_codec.client_num_units(line[column])
            column += 1
        return sum(len(text) + 1 for text in lines[: position.line]) + column

    def to_lsp(self, d: Diagnostic) -> lsp.Diagnostic:
        """The diagnostic in the server's language; `data` holds its texts in both (and its key)."""
        span = d.span or Span(Source("", ""), 0, 0)
        texts = d.text(self.lang)
        message = texts["message"] + (f" ({texts['label']})" if texts["label"] else "")
        if texts["help"]:
            message += f"\n{WORDS[self.lang]['help']}: {texts['help']}"
        severity = lsp.DiagnosticSeverity.Error if d.severity == "error" else lsp.DiagnosticSeverity.Warning
        return lsp.Diagnostic(range=self.range(span) if d.span else lsp.Range(lsp.Position(0, 0), lsp.Position(0, 0)),
                              message=message, severity=severity, code=d.code, source="rulebook",
                              data={"key": d.key, "messages": d.messages()})

    def describe(self, target: Target) -> str:
        words = WORDS[self.lang]
        head = f"**{words.get(target.kind, target.kind)}** `{target.name}`"
        if target.type is not None and target.kind not in ("field", "parameter", "record"):
            head += f" — {words['type']}: `{target.type.describe()}`"
        body = "\n".join(f"    {line}" if i == 0 else line for i, line in enumerate(target.doc))
        return head + ("\n\n" + body if body else "")


def _path(uri: str) -> Path | None:
    path = to_fs_path(uri)
    return Path(path) if path else None


def _within(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except ValueError:
        return False


def build_server() -> RulebookServer:
    server = RulebookServer()

    @server.feature(lsp.INITIALIZE)
    def initialize(ls: RulebookServer, params: lsp.InitializeParams) -> None:
        options = params.initialization_options
        if isinstance(options, dict) and options.get("lang") in WORDS:
            ls.lang = options["lang"]

    def document_changed(ls: RulebookServer, params) -> None:
        _refresh(ls, params.text_document.uri)

    for method in (lsp.TEXT_DOCUMENT_DID_OPEN, lsp.TEXT_DOCUMENT_DID_CHANGE, lsp.TEXT_DOCUMENT_DID_SAVE,
                   lsp.TEXT_DOCUMENT_DID_CLOSE):
        server.feature(method)(document_changed)

    @server.feature(lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def did_change_files(ls: RulebookServer, params: lsp.DidChangeWatchedFilesParams) -> None:
        for change in params.changes:
            _refresh(ls, change.uri)

    @server.feature(lsp.TEXT_DOCUMENT_HOVER)
    def hover(ls: RulebookServer, params: lsp.HoverParams) -> lsp.Hover | None:
        target = _target(ls, params.text_document.uri, params.position)
        if target is None:
            return None
        return lsp.Hover(contents=lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value=ls.describe(target)),
                         range=ls.range(target.span))

    @server.feature(lsp.TEXT_DOCUMENT_DEFINITION)
    def definition(ls: RulebookServer, params: lsp.DefinitionParams) -> lsp.Location | None:
        target = _target(ls, params.text_document.uri, params.position)
        if target is None or target.declared is None or not target.declared.source.path:
            return None
        return lsp.Location(uri=from_fs_path(target.declared.source.path), range=ls.range(target.declared))

    @server.feature(lsp.TEXT_DOCUMENT_COMPLETION, lsp.CompletionOptions(trigger_characters=["."]))
    def completion(ls: RulebookServer, params: lsp.CompletionParams) -> lsp.CompletionList:
        index, path = ls.index_for(params.text_document.uri)
        document = ls.workspace.get_text_document(params.text_document.uri)
        source = Source(path or "", document.source)
        items = completions(index, path, source.text, ls.offset(source, params.position)) if index else []
        return lsp.CompletionList(is_incomplete=False, items=[
            lsp.CompletionItem(label=item.label, kind=_COMPLETION_KINDS.get(item.kind), detail=item.detail or None,
                               documentation=item.doc or None) for item in items])

    return server


def _refresh(ls: RulebookServer, uri: str) -> None:
    path = _path(uri)
    if path is not None and path.suffix == SUFFIX:
        ls.analyse(ls.folder_of(path))


def _target(ls: RulebookServer, uri: str, position: lsp.Position) -> Target | None:
    index, path = ls.index_for(uri)
    if index is None or path not in index.sources:
        return None
    source = index.sources[path]
    return lookup(index, path, ls.offset(source, position))


def main() -> None:
    build_server().start_io()
