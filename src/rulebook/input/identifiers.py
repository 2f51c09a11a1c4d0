"""identifiers: what an identifier of a snapshot (a case id, a user name) never holds — C0 and
C1 controls, DEL, and the bidirectional formatting characters (marks, embeddings, overrides,
isolates) that reorder what a terminal or a page shows.

Written with \\uXXXX escapes, which pydantic's regex engine, Python and JavaScript (the page
reads the JSON Schema) read alike: the model's and the decoder's patterns, and the search that
names the character found, all come from here.
"""

from __future__ import annotations

import re

CONTROLS = "\\u0000-\\u001F\\u007F-\\u009F\\u061C\\u200E\\u200F\\u202A-\\u202E\\u2066-\\u2069"
IDENTIFIER = f"^[^{CONTROLS}]*$"
IDENTIFIER_NOT_BLANK = f"^[^{CONTROLS}]*[^\\s{CONTROLS}][^{CONTROLS}]*$"
CONTROL = re.compile(f"[{CONTROLS}]")  # finds the first of them in a text
