"""Outage detection in the composer: production outages and missed RPO/RTO targets, not ordinary questions."""

from __future__ import annotations

import pytest

from kb.forums.deflection import detect_outage, suggested_severity


@pytest.mark.parametrize(
    "text, severity",
    [
        ("Production down after upgrading the appliances", 1),
        ("Our prod site is down since 3am, replication stopped", 1),
        ("Live failover failed halfway, VMs not booting at the DR site", 1),
        ("We cannot fail over: the recovery site is unreachable", 1),
        ("ESXi host purple screen after installing the VRA", 1),
        ("Datacenter outage, need help now", 1),
        ("RPO missed on three VPGs every night", 2),
        ("We keep missing our RTO during tests", 2),
        ("RPO target exceeded since the WAN upgrade", 2),
    ],
)
def test_outages_are_detected(text, severity):
    signals = detect_outage(text)
    assert signals, text
    assert suggested_severity(signals) == severity


@pytest.mark.parametrize(
    "text",
    [
        "How do I size the journal for a 2 TB VM?",
        "Failover test VMs boot without network",
        "What is the difference between RPO and RTO?",
        "Upgrade order for 7.3 to 8.0",
        "Does the product support live migration of the appliance?",
        "",
    ],
)
def test_ordinary_questions_are_not_outages(text):
    assert detect_outage(text) == []
    assert suggested_severity([]) is None
