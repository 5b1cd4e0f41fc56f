"""Bounded work per request: the worst time of each rendering and scanning step on adversarial input.

Every step a user's text goes through on a post is timed on inputs built to make it slow: texts the
Markdown structure check refuses (they are rendered as escaped plain text), texts just under each
structure limit (they are rendered as Markdown), and texts aimed at each secret-scanner rule. Each
input is as long as a forum post may be. Target: under 0.5 s for every step on 2 cores. The verdict
uses this process's CPU time, which is what the step costs on an idle core; the wall-clock time is
printed beside it and is larger when other programs share the cores.
Usage: python bench/bounded.py [repeats]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kb.forums import secrets
from kb.forums.settings import DEFAULTS as FORUM_DEFAULTS
from kb.markup import MarkupLimits, render_article, render_post, structure_problem

TARGET = 0.5
REPEATS = int(sys.argv[1]) if len(sys.argv) > 1 else 2
LENGTH = int(FORUM_DEFAULTS["FORUMS_POST_MAX_LENGTH"])
TIMEOUT = float(FORUM_DEFAULTS["FORUMS_SECRET_SCAN_TIMEOUT"])


def fill(unit: str, length: int = LENGTH) -> str:
    return (unit * (length // len(unit) + 1))[:length]


def blocks(block: str, length: int = LENGTH) -> str:
    """``block`` repeated as separate paragraphs up to ``length``."""
    return fill(block + "\n\n", length)


LIMITS = MarkupLimits()
REFUSED = {
    "brackets": "[" * LENGTH,
    "unclosed link targets": fill("[a]("),
    "images": fill("!["),
    "footnote openers": fill("[^"),
    "quotes": ">" * LENGTH,
    "nested lists": "".join("    " * d + "- a\n" for d in range(120)),
    "quote-list chains": fill("> - "),
    "emphasis": fill("*_"),
    "backslashes": "\\" * LENGTH,
    "rule lines": fill("***\n"),
    "setext lines": fill("a\n=\n"),
    "list lines": fill("- a\n"),
    "code fences": fill("```\n"),
    "unclosed tags": fill("<http://a"),
    "link references": "".join(f"[r{n}]: /x/{n}\n" for n in range(LENGTH // 14)),
    "table rows": "|a|b|\n|-|-|\n" + fill("|a|b|\n", LENGTH - 12),
}
UNDER = {
    "brackets, short run": "[" * (int((2 * LIMITS.link_work) ** 0.5) - 2),
    "brackets in a long paragraph": "[" * (LIMITS.link_work // LENGTH - 1) + fill("word ", LENGTH - 14),
    "unclosed tags, short run": "<a" * (int(LIMITS.tag_work ** 0.5) - 2),
    "quotes 16 deep": fill("> " * 16 + "a\n"),
    "lists 16 deep": blocks("".join("    " * d + "- a\n" for d in range(16))),
    "rule lines, one paragraph": fill("***\n", int((4 * LIMITS.block_work) ** 0.5) - 8),
    "list lines, 32 per paragraph": blocks("- a\n" * 32, (LIMITS.block_lines // 32) * 130),
    "emphasis marks, 4,000 per paragraph": blocks(fill("*a_ ", LIMITS.inline_marks * 2 - 4)),
    "code fences": fill("```\ncode\n```\n\n", (LIMITS.code_fences // 2) * 14),
    "headings": "# same\n\n" * LIMITS.headings,
    "link references": "".join(f"[r{n}]: /x/{n}\n" for n in range(LIMITS.link_references))
    + " ".join(f"[r{n}]" for n in range(LIMITS.link_references)),
    "links": fill("[a](/b) "),
    "autolinks": fill("http://a.example "),
    "table rows": "|a|b|\n|-|-|\n" + "|a|b|\n" * (LIMITS.table_rows - 2),
    # Markdown as pasted from GitHub (kb/markup_paste.py rewrites these before parsing).
    "lists 31 deep by two spaces": blocks("".join("  " * d + "- a\n" for d in range(31))),
    "lists right under text": blocks("Steps:\n" + "- a\n" * 8 + "text\n" + "1. b\n" * 8, (LIMITS.block_lines // 16) * 60),
    "task lists": blocks("- [x] done\n  - [ ] open\n" * 8),
    "tables right under text": blocks("Sites:\n|a|b|\n|-|-|\n" + "|1|2|\n" * 8, (LIMITS.table_rows // 10) * 60),
    "strikethrough": fill("~~a~~ "),
}
SCAN_INPUTS = {
    "digit-dash run": fill("1-"),
    "letter-dash run": fill("A-"),
    "key-shaped groups": fill("AAAAA-"),
    "dotted run": fill("a."),
    "letters": "a" * LENGTH,
    "capitals": "A" * LENGTH,
    "spaces": " " * LENGTH,
    "colons after a scheme": "a://" + fill("a:", LENGTH - 4),
    "keywords": fill("password "),
    "assignments": fill("api_key= "),
    "bearer words": fill("Bearer "),
    "slack-like": fill("xoxa-"),
    "token-like": fill("ghp_"),
}


def worst(function, text: str) -> tuple[float, float]:
    """The slowest of REPEATS runs: (CPU seconds of this process, wall-clock seconds)."""
    slowest = (0.0, 0.0)
    for _ in range(REPEATS):
        cpu, wall = time.process_time(), time.perf_counter()
        function(text)
        slowest = max(slowest, (time.process_time() - cpu, time.perf_counter() - wall))
    return slowest


def report(step: str, times: dict[str, tuple[float, float]], failures: list[str]) -> None:
    name, (cpu, wall) = max(times.items(), key=lambda item: item[1])
    verdict = "ok" if cpu < TARGET else "OVER TARGET"
    print(f"  {step:44} {cpu:7.3f} s CPU {wall:7.3f} s wall   worst input: {name} ({verdict})")
    if cpu >= TARGET:
        failures.append(step)


def main() -> int:
    import logging

    logging.disable(logging.WARNING)  # refused texts log one line each
    failures: list[str] = []
    print(f"Inputs of up to {LENGTH:,} characters, worst of {REPEATS} runs each; target < {TARGET} s per step")
    wrong = [name for name, text in REFUSED.items() if not structure_problem(text)]
    wrong += [name for name, text in UNDER.items() if structure_problem(text)]
    if wrong:
        print(f"  inputs not classified as expected: {', '.join(wrong)}")
        failures.append("classification")
    print("Markdown")
    every = {**{f"refused: {k}": v for k, v in REFUSED.items()}, **{f"accepted: {k}": v for k, v in UNDER.items()}}
    report("structure check", {k: worst(structure_problem, v) for k, v in every.items()}, failures)
    report("render post (refused inputs)", {k: worst(render_post, v) for k, v in REFUSED.items()}, failures)
    report("render post (inputs under the limits)", {k: worst(render_post, v) for k, v in UNDER.items()}, failures)
    report("render article (refused inputs)", {k: worst(render_article, v) for k, v in REFUSED.items()}, failures)
    report("render article (inputs under the limits)", {k: worst(render_article, v) for k, v in UNDER.items()}, failures)
    print("Secret scanner")
    for rule in secrets.BUILTIN_RULES:
        times = {k: worst(lambda text, r=rule: secrets.scan(text, [r], TIMEOUT), v) for k, v in SCAN_INPUTS.items()}
        report(f"rule {rule.name}", times, failures)
    report("all built-in rules together", {k: worst(secrets.scan, v) for k, v in SCAN_INPUTS.items()}, failures)
    slow = secrets.compile_rules({"staff (a+)+b": r"(a+)+b"})[-1:]
    report("staff pattern (a+)+b, cut off by its limit", {"letters": worst(lambda t: secrets.scan(t, slow, TIMEOUT), "a" * LENGTH)}, failures)

    def save(pattern: str):
        try:
            secrets.check_pattern(pattern, TIMEOUT, int(FORUM_DEFAULTS["FORUMS_SECRET_PROBE_LENGTH"]))
        except secrets.PatternError:
            pass

    report("saving a staff pattern (probe check)", {p: worst(save, p) for p in (r"(a+)+b", r"(a|aa)+b", r"psk\s*=\s*\S{8,}", "a{4294967296}")}, failures)
    if failures:
        print(f"Over target: {', '.join(failures)}")
        return 1
    print("Every step is under the target.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
