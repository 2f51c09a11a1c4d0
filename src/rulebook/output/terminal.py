"""terminal: text from outside made safe to show on a terminal.

A snapshot's text (a case id, a name, a note) reaches the terminal inside
`rulebook check`, `watch`, `test`, the audit's messages and the service's log.
Raw, an ESC sequence in it could clear the screen or retitle the window, a BEL
ring, a carriage return overwrite what was shown, and a bidi override reorder a
line so that it reads as something else. `visible` is the one place that turns
every such character into its escape (`\\u001b`, `\\u202e`): shown, not obeyed.

The escape is JSON's, so a line of JSON stays valid JSON with the same values
after `visible`, and every writer, text or JSON Lines, can pass its lines here.
"""

from __future__ import annotations

import re

__all__ = ["visible"]

# C0 controls (tab and line breaks included: a writer adds its own), DEL, C1 controls;
# the bidi marks, embeddings, overrides and isolates; the line and paragraph separators;
# lone surrogates (which no terminal can show and no UTF-8 stream can carry).
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def _escape(match: re.Match) -> str:
    return f"\\u{ord(match.group()):04x}"


def visible(value):
    """`value` with every control, bidi and separator character of its texts escaped.

    A text gives a text; a mapping, list or tuple gives a copy with its texts (keys
    included) made visible; anything else comes back as it is."""
    if isinstance(value, str):
        return _UNSAFE.sub(_escape, value) if _UNSAFE.search(value) else value
    if isinstance(value, dict):
        return {visible(k): visible(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(visible(v) for v in value)
    return value
