"""The explained verdict as pydantic models (`rulebook.verdict/v1`, `rulebook.error/v1`).

What the Python API returns and what the HTTP service answers; the shape of
shared/spec/verdict-output.md. Keys are stable; new keys may be added.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

Status = Literal["pass", "fail", "pending", "not_applicable"]


class Texts(BaseModel):
    model_config = ConfigDict(frozen=True)
    ja: str
    en: str


class SourceRef(BaseModel):
    model_config = ConfigDict(frozen=True)
    text: str
    ref: str | None = None


class Result(BaseModel):
    model_config = ConfigDict(frozen=True)
    rule: str
    subject: str
    status: Status
    stage: str
    clause: int
    title: Texts
    message: Texts
    facts: dict[str, Any]
    source: SourceRef
    fix: Texts | None = None
    due: dt.date | None = None


class RulebookInfo(BaseModel):
    model_config = ConfigDict(frozen=True)
    name: str
    version: str
    digest: str


class Payout(BaseModel):
    """The amounts of the rulebook's payout, in whole yen, and one entry per step."""

    model_config = ConfigDict(frozen=True, extra="allow")
    steps: list[dict[str, int]] = []


class Verdict(BaseModel):
    model_config = ConfigDict(frozen=True)
    format: Literal["rulebook.verdict/v1"] = "rulebook.verdict/v1"
    case_id: str
    as_of: dt.date
    rulebook: RulebookInfo
    verdict: Literal["eligible", "incomplete", "ineligible"]
    counts: dict[Status, int]
    results: list[Result]
    payout: Payout
    warnings: list[str] = []
    warning_messages: list[Texts] = []  # the same warnings, in Japanese and English


class ErrorItem(BaseModel):
    model_config = ConfigDict(frozen=True)
    path: str
    message: str
    value: Any = None
    messages: Texts | None = None  # the message in Japanese and English
    line: int | None = None  # where the error is in its file, where known (1-based)
    column: int | None = None


class ErrorReport(BaseModel):
    model_config = ConfigDict(frozen=True)
    format: Literal["rulebook.error/v1"] = "rulebook.error/v1"
    case_id: str | None = None
    errors: list[ErrorItem]
