"""The line at the top of every case email that replies are cut at, whatever the mail program quotes."""

from __future__ import annotations

MARKER = "##- Please type your reply above this line -##"


def cut_at_marker(text: str) -> str:
    """Everything before the first line holding the marker (quoted with '>' or not); all of it if none."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for index, line in enumerate(lines):
        if MARKER in line:
            return "\n".join(lines[:index])
    return text
