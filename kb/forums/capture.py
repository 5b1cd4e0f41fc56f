"""Knowledge capture: the Markdown of a draft article built from a solved thread."""

from __future__ import annotations


def article_body(thread, question, answer, source_url: str) -> tuple[str, str, str]:
    """(title, body, summary) for a draft: the question, the accepted answer, and a link back."""
    title = thread.title
    summary = " ".join(question.body.split())[:200]
    body = (
        "## The question\n\n"
        f"{question.body.strip()}\n\n"
        "## The answer\n\n"
        f"{answer.body.strip()}\n\n"
        "---\n\n"
        f"Drafted from the community thread [{thread.title}]({source_url}), answered by "
        f"{answer.author.display_name}. Rewrite it as a how-to or troubleshooting article before publishing.\n"
    )
    return title, body, summary
