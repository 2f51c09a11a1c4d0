"""message: a text for a person, in English and Japanese at once.

A `Message` is the English text (it is a `str`, so a reader that wants a string keeps working)
carrying its Japanese beside it. Every catalogue of the project (the diagnostics' in
`language/catalogue.py`, the input errors' in `input/messages.py`) makes its messages with
`fill`, so a value that is itself a Message is given in the language being written.
"""

from __future__ import annotations

from typing import Any

LANGUAGES = ("ja", "en")


class Message(str):
    """A message for a person: the English text (the string itself), with `.ja` and `.en`."""

    ja: str

    def __new__(cls, en: str, ja: str) -> "Message":
        self = super().__new__(cls, en)
        self.ja = ja
        return self

    @property
    def en(self) -> str:
        return str.__str__(self)

    def text(self, lang: str) -> str:
        return self.ja if lang == "ja" else self.en

    def texts(self) -> dict[str, str]:
        """{"ja": …, "en": …}, as `rulebook.error/v1` and the verdict's warnings give it."""
        return {"ja": self.ja, "en": self.en}

    def __reduce__(self):  # sent to the audit's worker processes inside a batch unit
        return Message, (self.en, self.ja)

    def __repr__(self) -> str:
        return f"Message({self.en!r}, {self.ja!r})"


def in_language(value: Any, lang: str) -> Any:
    """A value as a text in `lang` shows it: a Message in that language, anything else as it is."""
    if isinstance(value, Message):
        return value.ja if lang == "ja" else value.en
    return value


def text_in(value: Any, lang: str) -> str:
    """Any text, a Message or a plain `str` (the same in both languages), in `lang`."""
    return str(in_language(value, lang))


def fill(en: str, ja: str, values: dict[str, Any]) -> Message:
    """Two templates of one message filled in with the same values (str.format), each value in
    the template's language."""
    return Message(en.format(**{k: in_language(v, "en") for k, v in values.items()}),
                   ja.format(**{k: in_language(v, "ja") for k, v in values.items()}))


def joined(items, separator: str = ", ", ja_separator: str = "、") -> Message:
    """Items (Messages or plain texts) in a list, each in the list's language."""
    items = list(items)
    return Message(separator.join(text_in(i, "en") for i in items),
                   ja_separator.join(text_in(i, "ja") for i in items))


__all__ = ["LANGUAGES", "Message", "fill", "in_language", "joined", "text_in"]
