"""How much structure one Markdown text may have before it is rendered: one linear pass, no parsing.

Python-Markdown spends quadratic time (or recursion) on some shapes of input: a run of unclosed
``[``, deep quote and list nesting, thousands of rule or heading lines in one paragraph.
``structure_problem`` estimates that work; forms show its message (``check_field``), and
``kb.markup`` renders a refused text as escaped plain text, so no text makes a request take seconds.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from flask import current_app, has_app_context
from wtforms.validators import ValidationError


@dataclass(frozen=True)
class MarkupLimits:
    """How much structure one text may have; each field is the setting ``MARKUP_MAX_<FIELD>``."""

    nesting: int = 16  # quote and list levels on one line
    link_work: int = 150_000  # characters scanned for the ends of "[...]" and "](...)", whole text
    tag_work: int = 300_000  # characters the HTML parser scans for the ">" of each "<tag"
    block_lines: int = 2_000  # heading, rule and list lines (each costs a fixed time)
    block_work: int = 2_000_000  # heading, rule and list lines times their paragraph's length, summed
    inline_marks: int = 4_000  # * _ < ` \ characters in one paragraph
    code_fences: int = 200  # ``` and ~~~ lines
    headings: int = 200
    table_rows: int = 1_000  # lines with a "|" (the tables extension takes a fixed time per row)
    link_references: int = 500  # "[name]: url" and "[^note]:" definitions

    @classmethod
    def from_config(cls, config) -> MarkupLimits:
        return cls(**{name: int(config[f"MARKUP_MAX_{name.upper()}"]) for name in cls.__dataclass_fields__})


def _limits() -> MarkupLimits:
    return MarkupLimits.from_config(current_app.config) if has_app_context() else MarkupLimits()


_FENCE = re.compile(r"(`{3,}|~{3,})")
_CONTAINER = re.compile(r"[ \t]*(?:>|[-*+][ \t]|\d{1,9}[.)][ \t])")
_SPLITTING_LINE = re.compile(r"[ \t]*(?:[-*_=#+]|\d{1,9}[.)])")
_HEADING_LINE = re.compile(r" {0,3}(?:#{1,6}(?:[ \t]|$)|[=-]+[ \t]*$)")
_REFERENCE_LINE = re.compile(r" {0,3}\[[^\]]{1,200}\]:")
_INLINE_MARKS = re.compile(r"[*_<`\\]")
_FENCE_OPENER = re.compile(r"(`{3,}|~{3,})[ ]*(?:\{[^\n]*\}|\.?[\w#.+-]*)?[ ]*$")


def _code_lines(lines: list[str]) -> set[int]:
    """Lines inside fenced code blocks exactly as the fenced_code extension pairs them (not parsed as Markdown)."""
    inside: set[int] = set()
    opened: tuple[int, str] | None = None
    for index, line in enumerate(lines):
        if opened is None:
            if match := _FENCE_OPENER.match(line):
                opened = (index, match.group(1))
        elif line.rstrip(" ") == opened[1]:
            inside.update(range(opened[0], index + 1))
            opened = None
    return inside


def _nesting(line: str) -> int:
    """Quote and list levels a line opens; indentation before a marker adds a level per 4 columns."""
    depth, position = 0, 0
    while match := _CONTAINER.match(line, position):
        marker = match.group(0)
        depth += 1 + len(marker[: len(marker) - len(marker.lstrip(" \t"))].expandtabs(4)) // 4
        position = match.end()
    return depth


def _link_work(block: str) -> int:
    """Characters Python-Markdown scans looking for each "[" and "](" end (to the block's end when unclosed)."""
    work, brackets, parens = 0, [], []
    escaped = False
    for index, char in enumerate(block):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "[":
            brackets.append(index)
        elif char == "]" and brackets:
            work += index - brackets.pop()
        elif char == "(":
            parens.append((index, index > 0 and block[index - 1] == "]"))
        elif char == ")" and parens:
            start, link = parens.pop()
            work += index - start if link else 0
    end = len(block)
    work += sum(end - start for start in brackets) + sum(end - start for start, link in parens if link)
    return work


_TAG_START = re.compile(r"<[A-Za-z/!?]")


def _tag_work(text: str) -> int:
    """Characters the HTML parser scans from each "<tag" to the next ">" (to the end when there is none)."""
    closes = [m.start() for m in re.finditer(">", text)]
    work = 0
    for match in _TAG_START.finditer(text):
        following = bisect.bisect_left(closes, match.start())
        work += (closes[following] if following < len(closes) else len(text)) - match.start()
    return work


_CODE_HINT = "or put the text in a code block (a line of ``` before and after it)."


def _paragraphs(lines: list[str], code: set[int]) -> list[str]:
    """The text's blocks as Python-Markdown splits them (at blank lines), code blocks left out."""
    found, block = [], []
    for index, line in enumerate([*lines, ""]):
        if index in code or not line.strip():
            if block:
                found.append("\n".join(block))
            block = []
        else:
            block.append(line)
    return found


def _split_work(paragraph: str) -> tuple[int, int]:
    """Heading, rule and list lines in a paragraph, and the re-scanning they cause (each one re-reads the rest)."""
    splits = sum(1 for line in paragraph.split("\n") if _SPLITTING_LINE.match(line))
    return splits, splits * len(paragraph)


def structure_problem(text: str, limits: MarkupLimits | None = None) -> str | None:
    """Why ``text`` has too much structure to render quickly (a message for the writer), or None."""
    limits = limits or _limits()
    lines = (text or "").split("\n")
    code = _code_lines(lines)
    prose = [(index + 1, line) for index, line in enumerate(lines) if index not in code]
    fences = sum(1 for line in lines if _FENCE.match(line))
    if fences > limits.code_fences:
        return (f"The text has {fences:,} code fence lines (``` or ~~~); the limit is {limits.code_fences:,}. "
                "Join neighbouring code blocks into one.")
    for number, line in prose:
        if (depth := _nesting(line)) > limits.nesting:
            return (f"Line {number} nests quotes or lists {depth:,} levels deep; the limit is {limits.nesting}. "
                    f"Flatten it, {_CODE_HINT}")
    headings = sum(1 for _, line in prose if _HEADING_LINE.match(line))
    if headings > limits.headings:
        return f"The text has {headings:,} headings; the limit is {limits.headings:,}. Split it into several pages."
    rows = sum(1 for _, line in prose if "|" in line)
    if rows > limits.table_rows:
        return f"The text has {rows:,} table rows (lines with “|”); the limit is {limits.table_rows:,}. Split the table, {_CODE_HINT}"
    references = sum(1 for _, line in prose if _REFERENCE_LINE.match(line))
    if references > limits.link_references:
        return (f"The text defines {references:,} link references; the limit is {limits.link_references:,}. "
                "Write the links inline instead.")
    if _tag_work("\n".join(line for _, line in prose)) > limits.tag_work:
        return ("The text has too many “<” that look like the start of an HTML tag but are never closed with “>”. "
                f"Write &lt; for a literal “<”, {_CODE_HINT}")
    paragraphs = _paragraphs(lines, code)
    for paragraph in paragraphs:
        if (marks := len(_INLINE_MARKS.findall(paragraph))) > limits.inline_marks:
            return (f"A paragraph has {marks:,} formatting characters (* _ < ` \\); the limit is {limits.inline_marks:,}. "
                    f"Add blank lines between its parts, {_CODE_HINT}")
    lines_and_work = [_split_work(p) for p in paragraphs]
    if (count := sum(n for n, _ in lines_and_work)) > limits.block_lines:
        return f"The text has {count:,} heading, rule and list lines; the limit is {limits.block_lines:,}. Split it into several posts."
    if sum(work for _, work in lines_and_work) > limits.block_work:
        return f"The text has too many heading, rule or list lines without blank lines between them. Add blank lines, {_CODE_HINT}"
    if sum(_link_work(p) for p in paragraphs) > limits.link_work:
        return ("The text has too many unclosed “[” or “](” (or links inside links) to format. "
                f"Close them, write \\[ for a literal bracket, {_CODE_HINT}")
    return None


def check_field(form, field) -> None:
    """WTForms validator for Markdown fields: the structure check's message, shown on the field."""
    problem = structure_problem(field.data or "")
    if problem:
        raise ValidationError(problem)
