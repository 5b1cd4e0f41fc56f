"""Severity data and the questionnaire, without an app."""

from __future__ import annotations

import pytest

from kb.cases import severity, sla


@pytest.mark.parametrize(
    "answers,expected",
    [
        ({"production_down": "yes"}, 1),
        ({"production_down": "yes", "question": "yes", "workaround": "yes"}, 1),
        ({"production_down": "no", "degraded": "yes"}, 2),
        ({"degraded": "yes", "workaround": "no"}, 2),
        ({"degraded": "yes", "workaround": "yes"}, 3),
        ({"workaround": "yes"}, 3),
        ({"production_down": "no", "degraded": "no", "workaround": "no", "question": "no"}, 3),
        ({"question": "yes"}, 4),
        ({"question": True, "degraded": False}, 4),
        ({"production_down": "maybe", "question": "y"}, 4),
    ],
)
def test_suggest_severity(answers, expected):
    number, reason = severity.suggest_severity(answers)
    assert number == expected
    assert f"severity {expected}" in reason


def test_no_answers_gives_no_suggestion():
    assert severity.suggest_severity({}) == (None, "Answer the questions above and we will suggest a severity.")
    assert severity.suggest_severity({"production_down": "", "junk": "yes"})[0] is None


def test_targets_table_follows_the_clock_policy():
    rows = {row["severity"].number: row["plans"] for row in severity.targets_table()}
    assert rows[4] == {"standard": {"label": "5 business days", "around_the_clock": False},
                       "premium": {"label": "3 business days", "around_the_clock": False}}
    assert rows[3]["premium"]["label"] == "1 business day"
    assert rows[2]["standard"] == {"label": "1 business day", "around_the_clock": False}
    assert rows[2]["premium"] == {"label": "5 hours", "around_the_clock": True}
    assert rows[1]["standard"] == {"label": "4 hours", "around_the_clock": True}
    assert rows[1]["premium"]["label"] == "1 hour"


def test_out_of_hours_coverage():
    assert severity.out_of_hours() == {"standard": (1,), "premium": (1, 2)}
    policy = sla.make_policy(targets={"2/standard": "8 hours"})
    assert severity.out_of_hours(policy)["standard"] == (1, 2)


def test_business_hours_text():
    assert severity.business_hours_text() == "Monday to Friday, 09:00 to 17:00"
    assert severity.business_hours_text(sla.make_policy(weekdays=[0, 2], opens="08:30")) == "Monday, Wednesday, 08:30 to 17:00"


def test_lookup():
    assert severity.label(2) == "Severity 2 – High"
    with pytest.raises(ValueError, match="Unknown severity 9"):
        severity.get(9)
