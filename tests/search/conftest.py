"""Search test fixtures: the test-only note kind registered on the app, and a small corpus of notes."""

from __future__ import annotations

from datetime import timedelta

import pytest

from kb.types import utcnow
from tests.search import notes
from tests.search.notes import add_note


@pytest.fixture
def search_app(app):
    notes.register(app)
    return app


@pytest.fixture
def corpus(search_app):
    now = utcnow()
    add_note("Sizing journals", "Journal size equals the peak hourly change rate times the history hours.",
             headings="How much space a journal uses\nSizing table", tags="journals,sizing",
             category="replication", article_type="best-practice", versions="7.3,8.0",
             updated=now - timedelta(days=30))
    add_note("Replication appliance runs out of memory",
             "The appliance starts swapping and replication lags behind. Give it 16 GB of RAM.",
             category="getting-started", article_type="troubleshooting", versions="8.0",
             updated=now - timedelta(days=10))
    add_note("Failover test VMs fail to boot", "Check the boot order and the recovery network <script>.",
             category="failover", article_type="troubleshooting", versions="7.2,7.3,8.0",
             updated=now - timedelta(days=1))
    add_note("Staff runbook for journal corruption", "Internal steps for repairing a corrupted journal.",
             visibility="role:staff", category="replication", article_type="how-to")
    add_note("Customer-only journal tips", "Tips on journal history for signed-in customers.",
             visibility="role:customer", category="replication", article_type="how-to")
    add_note("Draft about journal compaction", "Unfinished journal compaction notes.", published=False)
