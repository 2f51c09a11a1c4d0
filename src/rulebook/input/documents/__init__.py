"""documents: safe reading of case snapshot files — YAML, JSON and JSON Lines (plain or gzip).

One input (a file, a folder, stdin, a request's body) → a stream of `Document`s, each parsed
data or a fault that names its place; nothing here raises on bad input. The modules:

    document   Document, Location, Limits: what the readers give
    text       bytes → text (strict UTF-8), offsets → lines and columns
    lines      streams read ahead (sniffing the kind), the one JSON Lines line splitter
    json       JSON text → data (jiter): duplicate keys, depth, sizes; the places of fields
    yaml       YAML text → data, with the YAML 1.2 core schema; the places of fields
    read       a file, folder or stream → Documents
    batches    the audit's units: lines, files and spans of files, parsed elsewhere
"""

from .batches import Unit, iter_units, parse_unit, skip_lines, span_units
from .document import Document, DocumentError, Limits, Location
from .lines import KINDS
from .read import load_bytes, load_path, load_paths, load_stream
from .text import read_text

__all__ = [
    "KINDS",
    "Document",
    "DocumentError",
    "Limits",
    "Location",
    "Unit",
    "iter_units",
    "load_bytes",
    "load_path",
    "load_paths",
    "load_stream",
    "parse_unit",
    "read_text",
    "skip_lines",
    "span_units",
]
