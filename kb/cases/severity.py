"""The four severities, what each plan promises, and the questionnaire that suggests a severity.

Pure module (no Flask, no database). The /severity page, the case form, the forum composer and the
SLA clock all read these tables, so the help text cannot drift from what the clock does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from kb.cases import sla


@dataclass(frozen=True)
class Severity:
    number: int
    name: str
    summary: str
    meaning: str
    symptoms: tuple[str, ...]


SEVERITIES: tuple[Severity, ...] = (
    Severity(
        1,
        "Critical",
        "Production replication is down and there is no way around it.",
        "Your business cannot run as it should: replication has stopped in production, you cannot "
        "recover or migrate, and nothing you have tried works around it. We and you both work on it "
        "around the clock until it is stable again.",
        (
            "A live failover fails or hangs",
            "The product cannot be used at all",
            "A host crashes with a blue or purple screen",
        ),
    ),
    Severity(
        2,
        "High",
        "Replication runs, but not at full strength, or recovery targets are missed.",
        "Something is partly broken or degraded. Replication still runs and you could recover, but "
        "not within your RPO or RTO targets, or a key task cannot be done.",
        (
            "A failover test fails",
            "Sites keep disconnecting",
            "A VM cannot be added to a protection group",
            "Creating or editing a protection group fails",
            "A replication appliance runs out of memory",
            "A new installation fails",
        ),
    ),
    Severity(
        3,
        "Medium",
        "A non-critical problem, and a workaround keeps you going.",
        "A mild problem that does not put your protection at risk: there is a workaround, only a "
        "test environment is affected, or the issue is gone and you want to know why it happened.",
        (
            "A replication problem in a test environment",
            "The problem is resolved, but its root cause is still unknown",
        ),
    ),
    Severity(
        4,
        "Low",
        "A question: replication is not affected.",
        "You want to know how something works or whether the product can do something. Nothing is "
        "broken.",
        (
            "A routine technical question",
            "Asking what the product can do",
        ),
    ),
)

BY_NUMBER: dict[int, Severity] = {s.number: s for s in SEVERITIES}
PLAN_NAMES = {"standard": "Standard", "premium": "Premium"}


def get(number: int) -> Severity:
    """The severity with this number; ValueError for anything else."""
    try:
        return BY_NUMBER[int(number)]
    except (KeyError, TypeError, ValueError):
        raise ValueError(f"Unknown severity {number!r}; severities are 1 (most urgent) to 4.") from None


def label(number: int) -> str:
    severity = get(number)
    return f"Severity {severity.number} – {severity.name}"


def targets_table(policy: sla.Policy | None = None) -> list[dict]:
    """One row per severity: the first-response and update targets on each plan, and whether each runs 24x7."""
    policy = policy or sla.DEFAULT_POLICY

    def cell(target: sla.Target) -> dict:
        return {"label": target.label(), "around_the_clock": target.clock == sla.ELAPSED}

    rows = []
    for severity in SEVERITIES:
        rows.append({
            "severity": severity,
            "plans": {plan: cell(policy.target(severity.number, plan)) for plan in sla.PLANS},
            "updates": {plan: cell(policy.update_target(severity.number, plan)) for plan in sla.PLANS},
        })
    return rows


def out_of_hours(policy: sla.Policy | None = None) -> dict[str, tuple[int, ...]]:
    """Per plan, the severities worked outside business hours: those on the round-the-clock clock."""
    policy = policy or sla.DEFAULT_POLICY
    return {
        plan: tuple(s.number for s in SEVERITIES if policy.target(s.number, plan).clock == sla.ELAPSED)
        for plan in sla.PLANS
    }


def business_hours_text(policy: sla.Policy | None = None) -> str:
    """'Monday to Friday, 09:00 to 17:00'."""
    policy = policy or sla.DEFAULT_POLICY
    names = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
    days = sorted(policy.weekdays)
    if days == list(range(days[0], days[-1] + 1)) and len(days) > 1:
        span = f"{names[days[0]]} to {names[days[-1]]}"
    else:
        span = ", ".join(names[d] for d in days)
    return f"{span}, {policy.opens:%H:%M} to {policy.closes:%H:%M}"


@dataclass(frozen=True)
class Question:
    key: str
    text: str
    hint: str


QUESTIONS: tuple[Question, ...] = (
    Question(
        "production_down",
        "Is replication down in production, or is a live failover failing?",
        "Answer yes only for production systems, not for tests.",
    ),
    Question(
        "degraded",
        "Is replication degraded, or are you missing your RPO or RTO targets?",
        "For example: a failover test failed, sites disconnect, or protection groups cannot be changed.",
    ),
    Question(
        "workaround",
        "Is there a workaround, or is only a test environment affected?",
        "A workaround is anything that keeps you protected while we look into it.",
    ),
    Question(
        "question",
        "Is this a question rather than a problem?",
        "For example: how a feature works, or whether the product can do something.",
    ),
)

_YES = {"yes", "y", "true", "1", "on"}
_NO = {"no", "n", "false", "0", "off"}


def parse_answer(value) -> bool | None:
    """'yes'/'no' (and booleans) to True/False; anything else counts as not answered."""
    if isinstance(value, bool):
        return value
    text = str(value or "").strip().lower()
    if text in _YES:
        return True
    if text in _NO:
        return False
    return None


def suggest_severity(answers: Mapping[str, object]) -> tuple[int | None, str]:
    """Suggest a severity from the questionnaire answers, with the reason in plain words.

    Answers are keyed by the question keys with yes/no values; unanswered questions are ignored.
    When nothing was answered the severity is None and the reason asks for answers.
    """
    given = {q.key: parse_answer(answers.get(q.key)) for q in QUESTIONS}
    if all(value is None for value in given.values()):
        return None, "Answer the questions above and we will suggest a severity."
    if given["production_down"]:
        return 1, (
            "Replication is down in production or a live failover is failing: that is severity 1. "
            "We work on it around the clock on both plans. Please also call us if you can."
        )
    if given["degraded"]:
        if given["workaround"]:
            return 3, (
                "Something is degraded, but a workaround keeps you protected or only a test environment "
                "is affected: severity 3. If the workaround stops working, raise the case to severity 2."
            )
        return 2, (
            "Replication runs but not at full strength, or recovery targets are being missed, and "
            "there is no workaround: severity 2."
        )
    if given["question"]:
        return 4, "It is a question and replication is not affected: severity 4."
    if given["workaround"]:
        return 3, "A problem with a workaround, or one limited to a test environment: severity 3."
    return 3, (
        "Nothing is down or degraded, so severity 3 is a good start. Tell us about the business "
        "impact in the case; we will adjust the severity if it is more urgent."
    )
