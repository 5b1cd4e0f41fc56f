"""The bench's WSGI app: the real site, plus a bare Flask route to compare an article page against.

Only bench/articles.py uses this module (gunicorn --pythonpath bench/support articles_wsgi:app);
the bare route exists nowhere else.
"""

from __future__ import annotations

from kb import create_app

app = create_app()


@app.route("/__bench/bare")
def bare():
    return "ok"
