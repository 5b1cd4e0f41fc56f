"""The one builder of a case page's address: views, mail, notifications and the API use it."""

from __future__ import annotations

from kb.cases.models import Case
from kb.urls import build_url


def case_url(case: Case, *, external: bool = False) -> str:
    """``/cases/<number>``; absolute (from the site address) for mail and the API."""
    return build_url("cases.detail", number=case.number, external=external)
