"""Knowledge capture: a draft knowledge-base article built from a solved thread."""

from __future__ import annotations

from kb.extensions import db
from kb.forums import threads
from kb.forums.models import Post, Thread


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


def article_for(thread: Thread):
    """The article captured from this thread, if any (drafts included)."""
    if not thread.article_id:
        return None
    from kb.articles.models import Article

    return db.session.get(Article, thread.article_id)


def capture_thread(thread: Thread, author, source_url: str):
    """Create the draft article from the question and its accepted answer and link it to the thread (no commit)."""
    from kb.articles.editing import create_draft

    question = threads.first_post(thread)
    answer = db.session.get(Post, thread.accepted_post_id)
    title, body, summary = article_body(thread, question, answer, source_url)
    article = create_draft(title, body, author, summary=summary, source_url=source_url)
    db.session.flush()
    thread.article_id = article.id
    return article
