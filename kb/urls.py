"""The site's addresses, built anywhere (a request, the CLI, the worker, indexing), and the one slugify."""

from __future__ import annotations

from flask import current_app, url_for
from slugify import slugify as _transliterate


def build_url(endpoint: str, *, external: bool = False, **values) -> str:
    """``url_for`` that also works outside a request.

    With KB_SITE_URL set, ``url_for`` builds outside a request too (``kb reindex``, the worker's
    mail); without it, there is no address to be absolute on, so the root-relative path is given.
    """
    try:
        return url_for(endpoint, _external=external, **values)  # absolute ones on KB_SITE_URL when set
    except RuntimeError:  # outside a request with no KB_SITE_URL: a path is all that can be given
        with current_app.test_request_context():
            return url_for(endpoint, **values)


def slugify(text: str, max_length: int = 120) -> str:
    """A lowercase ASCII slug: 'Fail back, fast!' -> 'fail-back-fast'; other scripts are transliterated.

    python-slugify spells Cyrillic and CJK titles in Latin letters ('Репликация' -> 'replikatsiia'),
    so they stay readable instead of vanishing.
    """
    return _transliterate(text or "")[:max_length].rstrip("-")
