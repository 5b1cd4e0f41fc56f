"""The first-response and update clocks: when a case must get its first staff answer and its next update.

Pure module (no Flask, no database): plain values in, an aware datetime out, so the policy pages,
the case views, the sweep and the tests all use the very same rules.

Two clocks exist. A 24x7 clock counts real elapsed time, so a daylight-saving change neither
stretches nor shrinks it. A business clock counts only Monday-Friday 09:00-17:00 in the
organisation's local wall time, skipping its holidays; each day contributes the real time between
its local opening and closing, and one business day is one full window (8 hours by default).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

SEVERITIES = (1, 2, 3, 4)
PLANS = ("standard", "premium")
BUSINESS = "business"
ELAPSED = "24x7"
# How far ahead the business clock looks for enough open hours before it gives up (ten years).
_MAX_DAYS_SCANNED = 3660


@dataclass(frozen=True)
class Target:
    """A first-response target: an amount on one clock, in business days, business hours or real hours."""

    amount: float
    unit: str  # "business_days", "business_hours" or "hours" (24x7)

    def __post_init__(self):
        if self.unit not in ("business_days", "business_hours", "hours"):
            raise ValueError(f"Unknown target unit {self.unit!r}; use business_days, business_hours or hours.")
        if not self.amount > 0:
            raise ValueError(f"A target must be positive, not {self.amount!r}.")

    @property
    def clock(self) -> str:
        return ELAPSED if self.unit == "hours" else BUSINESS

    def label(self) -> str:
        """'5 business days', '1 business day', '5 hours'."""
        amount = int(self.amount) if float(self.amount).is_integer() else self.amount
        noun = {"business_days": "business day", "business_hours": "business hour", "hours": "hour"}[self.unit]
        return f"{amount} {noun}{'' if amount == 1 else 's'}"


@dataclass(frozen=True)
class Policy:
    """Business hours, working weekdays and the target for each (severity, plan)."""

    opens: time = time(9, 0)
    closes: time = time(17, 0)
    weekdays: frozenset[int] = frozenset({0, 1, 2, 3, 4})  # Monday = 0
    targets: Mapping[tuple[int, str], Target] = field(default_factory=dict)
    # After the first response, how often the customer hears from support while the case is with us.
    update_targets: Mapping[tuple[int, str], Target] = field(default_factory=dict)

    def __post_init__(self):
        if not self.opens < self.closes:
            raise ValueError(f"Business hours must open before they close ({self.opens} to {self.closes}).")
        if not self.weekdays or not set(self.weekdays) <= set(range(7)):
            raise ValueError("Business weekdays must be a non-empty set of numbers 0 (Monday) to 6 (Sunday).")

    @property
    def business_day(self) -> timedelta:
        """The nominal length of one business day (the opening window, 8 hours by default)."""
        return datetime.combine(date.min, self.closes) - datetime.combine(date.min, self.opens)

    def target(self, severity: int, plan: str) -> Target:
        severity = _check_severity(severity)
        plan = _check_plan(plan)
        try:
            return self.targets[(severity, plan)]
        except KeyError:
            raise ValueError(f"The policy has no target for severity {severity} on the {plan} plan.") from None

    def update_target(self, severity: int, plan: str) -> Target:
        severity = _check_severity(severity)
        plan = _check_plan(plan)
        try:
            return self.update_targets[(severity, plan)]
        except KeyError:
            raise ValueError(f"The policy has no update target for severity {severity} on the {plan} plan.") from None

    def duration(self, target: Target) -> timedelta:
        """The target as time on its own clock."""
        if target.unit == "business_days":
            return self.business_day * target.amount
        return timedelta(hours=target.amount)


DEFAULT_TARGETS: dict[tuple[int, str], Target] = {
    (4, "standard"): Target(5, "business_days"),
    (4, "premium"): Target(3, "business_days"),
    (3, "standard"): Target(3, "business_days"),
    (3, "premium"): Target(1, "business_days"),
    (2, "standard"): Target(1, "business_days"),
    (2, "premium"): Target(5, "hours"),
    (1, "standard"): Target(4, "hours"),
    (1, "premium"): Target(1, "hours"),
}

# The update cadence: a Severity 1 is worked continuously, so Premium customers hear every hour around
# the clock and Standard ones every four hours; Premium's out-of-hours Severity 2 gets an update every
# four hours around the clock; everything else is updated within business days.
DEFAULT_UPDATE_TARGETS: dict[tuple[int, str], Target] = {
    (4, "standard"): Target(5, "business_days"),
    (4, "premium"): Target(5, "business_days"),
    (3, "standard"): Target(3, "business_days"),
    (3, "premium"): Target(2, "business_days"),
    (2, "standard"): Target(1, "business_days"),
    (2, "premium"): Target(4, "hours"),
    (1, "standard"): Target(4, "hours"),
    (1, "premium"): Target(1, "hours"),
}

DEFAULT_POLICY = Policy(targets=DEFAULT_TARGETS, update_targets=DEFAULT_UPDATE_TARGETS)


def make_policy(opens: str | time | None = None, closes: str | time | None = None,
                weekdays: Iterable[int] | None = None,
                targets: Mapping | None = None, update_targets: Mapping | None = None) -> Policy:
    """A policy from configuration values ("08:30", [0..4], {"2/premium": "5 hours"}), defaults elsewhere."""
    merged = dict(DEFAULT_TARGETS)
    for key, value in (targets or {}).items():
        merged[_parse_target_key(key)] = _parse_target(value)
    updates = dict(DEFAULT_UPDATE_TARGETS)
    for key, value in (update_targets or {}).items():
        updates[_parse_target_key(key)] = _parse_target(value)
    return Policy(
        opens=_parse_time(opens) if opens is not None else DEFAULT_POLICY.opens,
        closes=_parse_time(closes) if closes is not None else DEFAULT_POLICY.closes,
        weekdays=frozenset(int(d) for d in weekdays) if weekdays is not None else DEFAULT_POLICY.weekdays,
        targets=merged,
        update_targets=updates,
    )


def response_due(severity: int, plan: str, opened_at: datetime, tz: str | tzinfo,
                 holidays: Iterable[str | date] = (), *, policy: Policy | None = None) -> datetime:
    """When the first staff response is due, aware and expressed in the organisation's timezone."""
    policy = policy or DEFAULT_POLICY
    return _due(policy.target(severity, plan), opened_at, timedelta(0), tz, holidays, policy)


def update_due(severity: int, plan: str, started_at: datetime, tz: str | tzinfo,
               holidays: Iterable[str | date] = (), *, used: timedelta = timedelta(0),
               policy: Policy | None = None) -> datetime:
    """When the next update is due: the update target, less clock time ``used`` before a pause, from ``started_at``.

    The clock (re)starts at each public staff reply with ``used`` zero; while the case waits on the
    customer it is paused, and it resumes from where it stopped when the case comes back to support.
    """
    policy = policy or DEFAULT_POLICY
    return _due(policy.update_target(severity, plan), started_at, used, tz, holidays, policy)


def update_clock_used(severity: int, plan: str, started_at: datetime, now: datetime, tz: str | tzinfo,
                      holidays: Iterable[str | date] = (), *, used: timedelta = timedelta(0),
                      policy: Policy | None = None) -> timedelta:
    """Update-clock time used by ``now``: what ran before a pause plus what ran since ``started_at``."""
    policy = policy or DEFAULT_POLICY
    target = policy.update_target(severity, plan)
    return used + _clock_time(target, started_at, now, tz, holidays, policy)


def update_fraction_left(severity: int, plan: str, started_at: datetime, now: datetime, tz: str | tzinfo,
                         holidays: Iterable[str | date] = (), *, used: timedelta = timedelta(0),
                         policy: Policy | None = None) -> float:
    """Share of the update target still unused at ``now``: 1.0 right after a reply, 0.0 or less once due."""
    policy = policy or DEFAULT_POLICY
    budget = policy.duration(policy.update_target(severity, plan))
    return 1 - update_clock_used(severity, plan, started_at, now, tz, holidays, used=used, policy=policy) / budget


def target_for(severity: int, plan: str, policy: Policy | None = None) -> Target:
    return (policy or DEFAULT_POLICY).target(severity, plan)


def clock_time_between(severity: int, plan: str, start: datetime, end: datetime, tz: str | tzinfo,
                       holidays: Iterable[str | date] = (), *, policy: Policy | None = None) -> timedelta:
    """How much of the target's clock ran between two instants (business time or real time)."""
    policy = policy or DEFAULT_POLICY
    return _clock_time(policy.target(severity, plan), start, end, tz, holidays, policy)


def fraction_left(severity: int, plan: str, opened_at: datetime, now: datetime, tz: str | tzinfo,
                  holidays: Iterable[str | date] = (), *, policy: Policy | None = None) -> float:
    """Share of the target still unused at ``now``: 1.0 when opened, 0.0 or less once due."""
    policy = policy or DEFAULT_POLICY
    budget = policy.duration(policy.target(severity, plan))
    used = clock_time_between(severity, plan, opened_at, now, tz, holidays, policy=policy)
    return 1 - used / budget


def is_business_time(moment: datetime, tz: str | tzinfo, holidays: Iterable[str | date] = (),
                     *, policy: Policy | None = None) -> bool:
    """True when ``moment`` falls inside a business window (closing instant included)."""
    policy = policy or DEFAULT_POLICY
    zone = _zone(tz)
    moment = _check_aware(moment).astimezone(UTC)
    local_day = moment.astimezone(zone).date()
    window = _window(local_day, zone, _holiday_set(holidays), policy)
    return window is not None and window[0] <= moment <= window[1]


def check_zone(tz: str | tzinfo) -> tzinfo:
    """The timezone for an IANA name; ValueError with a clear message for an unknown one."""
    return _zone(tz)


def holiday_dates(holidays: Iterable[str | date]) -> frozenset[date]:
    """Holiday entries as dates; ValueError naming the first entry that is not a YYYY-MM-DD date."""
    return _holiday_set(holidays)


# --- internals -------------------------------------------------------------------------------


def _due(target: Target, start: datetime, used: timedelta, tz, holidays, policy: Policy) -> datetime:
    zone = _zone(tz)
    start = _check_aware(start).astimezone(UTC)
    budget = max(policy.duration(target) - used, timedelta(0))
    if target.clock == ELAPSED:
        return (start + budget).astimezone(zone)
    if budget == timedelta(0):
        return start.astimezone(zone)
    return _add_business_time(start, budget, zone, _holiday_set(holidays), policy)


def _clock_time(target: Target, start: datetime, end: datetime, tz, holidays, policy: Policy) -> timedelta:
    start = _check_aware(start).astimezone(UTC)
    end = _check_aware(end).astimezone(UTC)
    if end <= start:
        return timedelta(0)
    if target.clock == ELAPSED:
        return end - start
    total = timedelta(0)
    for window_start, window_end in _windows(start, _zone(tz), _holiday_set(holidays), policy):
        if window_start >= end:
            break
        total += min(window_end, end) - window_start
    return total


def _add_business_time(opened: datetime, budget: timedelta, zone: ZoneInfo, holidays: frozenset[date],
                       policy: Policy) -> datetime:
    remaining = budget
    for window_start, window_end in _windows(opened, zone, holidays, policy):
        available = window_end - window_start
        # "<=" makes a target that ends exactly at closing time due at closing time that day.
        if remaining <= available:
            return (window_start + remaining).astimezone(zone)
        remaining -= available
    raise ValueError("No business hours found within ten years; check the business weekdays and holidays.")


def _windows(start: datetime, zone: ZoneInfo, holidays: frozenset[date], policy: Policy):
    """Yield the (UTC start, UTC end) business windows from ``start`` on, the first one clipped."""
    day = start.astimezone(zone).date()
    for offset in range(_MAX_DAYS_SCANNED):
        window = _window(day + timedelta(days=offset), zone, holidays, policy)
        if window is None:
            continue
        window_start, window_end = max(window[0], start), window[1]
        if window_start < window_end:
            yield window_start, window_end


def _window(day: date, zone: ZoneInfo, holidays: frozenset[date], policy: Policy):
    if day.weekday() not in policy.weekdays or day in holidays:
        return None
    opens = datetime.combine(day, policy.opens, tzinfo=zone).astimezone(UTC)
    closes = datetime.combine(day, policy.closes, tzinfo=zone).astimezone(UTC)
    # A date a zone skipped altogether (Samoa, 30 December 2011) maps onto another day: no window.
    if opens.astimezone(zone).date() != day or closes.astimezone(zone).date() != day:
        return None
    return (opens, closes) if opens < closes else None


def _check_aware(value: datetime) -> datetime:
    if not isinstance(value, datetime):
        raise TypeError(f"Expected a datetime, got {type(value).__name__}.")
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise ValueError(
            f"The time {value.isoformat()} has no timezone; pass an aware datetime (e.g. in UTC) "
            "so the clock knows which instant it is."
        )
    return value


def _check_severity(severity) -> int:
    try:
        number = int(severity)
    except (TypeError, ValueError):
        number = None
    if number not in SEVERITIES or isinstance(severity, bool) or (isinstance(severity, float) and not severity.is_integer()):
        raise ValueError(f"Unknown severity {severity!r}; severities are 1 (most urgent) to 4.")
    return number


def _check_plan(plan) -> str:
    name = getattr(plan, "value", plan)
    if not isinstance(name, str) or name.lower() not in PLANS:
        raise ValueError(f"Unknown support plan {plan!r}; plans are {' and '.join(PLANS)}.")
    return name.lower()


def _zone(tz: str | tzinfo) -> tzinfo:
    if isinstance(tz, tzinfo):
        return tz
    if not isinstance(tz, str) or not tz:
        raise ValueError(f"Unknown timezone {tz!r}; use an IANA name such as Europe/London.")
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"Unknown timezone {tz!r}; use an IANA name such as Europe/London.") from None


def _holiday_set(holidays: Iterable[str | date] | None) -> frozenset[date]:
    result = set()
    for item in holidays or ():
        if isinstance(item, datetime):
            result.add(item.date())
        elif isinstance(item, date):
            result.add(item)
        else:
            try:
                result.add(date.fromisoformat(str(item).strip()))
            except ValueError:
                raise ValueError(f"Holiday {item!r} is not a date in YYYY-MM-DD form.") from None
    return frozenset(result)


def _parse_time(value: str | time) -> time:
    if isinstance(value, time):
        return value
    try:
        return time.fromisoformat(str(value).strip())
    except ValueError:
        raise ValueError(f"Business hours need a time like 09:00, not {value!r}.") from None


def _parse_target_key(key) -> tuple[int, str]:
    if isinstance(key, tuple) and len(key) == 2:
        return _check_severity(key[0]), _check_plan(key[1])
    severity, _, plan = str(key).partition("/")
    return _check_severity(severity.strip()), _check_plan(plan.strip())


def _parse_target(value) -> Target:
    """'5 business days', '1 business day', '8 business hours', '5 hours' (24x7)."""
    if isinstance(value, Target):
        return value
    parts = str(value).strip().lower().split()
    try:
        amount = float(parts[0])
    except (IndexError, ValueError):
        raise ValueError(f"A target looks like '3 business days' or '5 hours', not {value!r}.") from None
    unit = " ".join(parts[1:]).rstrip("s")
    units = {"business day": "business_days", "business hour": "business_hours", "hour": "hours"}
    if unit not in units:
        raise ValueError(f"A target looks like '3 business days' or '5 hours', not {value!r}.")
    return Target(amount, units[unit])
