"""Markdown as people paste it from GitHub or Discourse, read the way GitHub reads it.

Python-Markdown follows the original Markdown rules: a list or a table needs a blank line before
it, and a nested list needs four spaces per level. GitHub (CommonMark) lets a list or a table
start right under a line of text and nests a list item under the text of the item above it, so
two spaces under ``- `` are enough. ``PasteExtension`` rewrites the text before the block parser
sees it: a blank line before such a list or table, and nested list lines re-indented to four
spaces per level. It runs after fenced code blocks are stashed, so code is never touched.
"""

from __future__ import annotations

import re

from markdown.extensions import Extension
from markdown.preprocessors import Preprocessor

_ITEM = re.compile(r"^( *)([-*+]|\d{1,9}[.)])( +|$)(.*)$")
_THEMATIC_BREAK = re.compile(r"^ {0,3}(?:(?:\*[ \t]*){3,}|(?:-[ \t]*){3,}|(?:_[ \t]*){3,})$")
_TABLE_ROW = re.compile(r"^ {0,3}\|")
_TABLE_DELIMITER = re.compile(r"^ {0,3}\|?[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*$")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


class _Item:
    """An open list item: the column its text starts at in the source, and its nesting level."""

    __slots__ = ("content", "level")

    def __init__(self, content: int, level: int):
        self.content = content
        self.level = level


def _item(line: str):
    """(indent, marker, text) of a list item line, or None; ``* * *`` and ``---`` are rules, not items."""
    match = _ITEM.match(line)
    if match is None or _THEMATIC_BREAK.match(line):
        return None
    spaces = match.group(3)
    # Five or more spaces after the marker: the text starts one space after it (the rest is code).
    gap = 1 if len(spaces) > 4 or not match.group(4) else len(spaces)
    return len(match.group(1)), match.group(2), match.group(4), gap


def _may_interrupt(marker: str, text: str) -> bool:
    """CommonMark: only a non-empty bullet item or an ordered list starting at 1 may interrupt a paragraph."""
    return bool(text.strip()) and (marker in "-*+" or marker[:-1].lstrip("0") == "1")


def rewrite(lines: list[str]) -> list[str]:
    """The lines with blank lines before lists and tables that follow text, and nested lists at four spaces a level."""
    out: list[str] = []
    stack: list[_Item] = []
    previous = ""  # the previous source line
    # Inside a list, a paragraph that followed a blank line: Python-Markdown reads an item right under
    # it as more of that paragraph, so the item gets a blank line (the list is loose already).
    item_paragraph = False
    for index, line in enumerate(lines):
        if not line.strip():
            item_paragraph = False
            out.append(line)
            previous = line
            continue
        indent, found = _indent(line), _item(line)
        in_list = bool(stack)
        if found or not previous.strip():
            # An item, or text after a blank line, closes the items it is not indented under.
            while stack and indent < stack[-1].content:
                stack.pop()
        if found and (stack or in_list or found[0] <= 3 and (not previous.strip() or _may_interrupt(found[1], found[2]))):
            item_indent, marker, text, gap = found
            if previous.strip() and (not in_list or item_paragraph):
                out.append("")
            item_paragraph = False
            level = len(stack)
            stack.append(_Item(item_indent + len(marker) + gap, level))
            marker = marker.replace(")", ".")  # Python-Markdown knows only "1." for ordered items
            out.append(" " * (4 * level) + marker + (" " + text if text else " "))
        elif stack:
            item_paragraph = item_paragraph or not previous.strip()
            owners = [item for item in stack if item.content <= indent]
            if owners:
                owner = owners[-1]
                line = " " * (4 * (owner.level + 1) + indent - owner.content) + line.lstrip(" ")
            out.append(line)
        else:
            following = lines[index + 1] if index + 1 < len(lines) else ""
            if (_TABLE_ROW.match(line) and _TABLE_DELIMITER.match(following) and previous.strip()
                    and not _TABLE_ROW.match(previous)):
                out.append("")
            out.append(line)
        previous = line
    return out


class _PastePreprocessor(Preprocessor):
    def run(self, lines: list[str]) -> list[str]:
        return rewrite(lines)


class PasteExtension(Extension):
    """Registers the rewrite after fenced_code (25) and normalize_whitespace (30), before raw HTML (20)."""

    def extendMarkdown(self, md) -> None:
        md.preprocessors.register(_PastePreprocessor(md), "paste_lists", 22)
