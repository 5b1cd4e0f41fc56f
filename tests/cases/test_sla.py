"""The first-response clock, rule by rule: business windows, weekends, holidays, 17:00, DST, errors."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kb.cases import sla
from kb.cases.sla import (
    clock_time_between,
    fraction_left,
    is_business_time,
    make_policy,
    response_due,
)


def at(zone: str, text: str) -> datetime:
    """A local wall time in a zone, e.g. at('Europe/London', '2026-01-05 10:00')."""
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone))


LONDON, NY, KOLKATA, SYDNEY = "Europe/London", "America/New_York", "Asia/Kolkata", "Australia/Sydney"

# (why, severity, plan, zone, opened local wall time, holidays, due local wall time)
# Week used: Mon 2026-01-05 .. Fri 2026-01-09, then Mon 2026-01-12 (London is on GMT in January).
BUSINESS_CASES = [
    ("inside hours, one business day", 2, "standard", LONDON, "2026-01-05 10:00", (), "2026-01-06 10:00"),
    ("opened at 09:00, one day ends exactly at 17:00 the same day", 2, "standard", LONDON, "2026-01-05 09:00", (), "2026-01-05 17:00"),
    ("opened exactly at 17:00 starts at the next opening", 2, "standard", LONDON, "2026-01-05 17:00", (), "2026-01-06 17:00"),
    ("opened before opening starts at 09:00", 2, "standard", LONDON, "2026-01-05 07:15", (), "2026-01-05 17:00"),
    ("opened in the evening starts next morning", 2, "standard", LONDON, "2026-01-05 18:30", (), "2026-01-06 17:00"),
    ("one minute before closing", 2, "standard", LONDON, "2026-01-05 16:59", (), "2026-01-06 16:59"),
    ("friday afternoon skips the weekend", 2, "standard", LONDON, "2026-01-09 15:00", (), "2026-01-12 15:00"),
    ("friday after closing runs to monday closing", 2, "standard", LONDON, "2026-01-09 17:30", (), "2026-01-12 17:00"),
    ("saturday starts monday 09:00", 2, "standard", LONDON, "2026-01-10 11:00", (), "2026-01-12 17:00"),
    ("sunday just before midnight", 2, "standard", LONDON, "2026-01-11 23:59", (), "2026-01-12 17:00"),
    ("severity 4 standard is five business days", 4, "standard", LONDON, "2026-01-05 13:00", (), "2026-01-12 13:00"),
    ("severity 4 premium is three business days, ending at 17:00", 4, "premium", LONDON, "2026-01-07 09:00", (), "2026-01-09 17:00"),
    ("severity 3 standard is three business days over a weekend", 3, "standard", LONDON, "2026-01-08 11:00", (), "2026-01-13 11:00"),
    ("severity 3 premium is one business day", 3, "premium", LONDON, "2026-01-08 12:00", (), "2026-01-09 12:00"),
    ("a holiday monday is skipped", 2, "standard", LONDON, "2026-01-09 15:00", ("2026-01-12",), "2026-01-13 15:00"),
    ("opened on a holiday starts the next business day", 2, "standard", LONDON, "2026-01-05 10:00", ("2026-01-05",), "2026-01-06 17:00"),
    ("holidays and a weekend in a row", 2, "standard", LONDON, "2026-12-24 16:00", ("2026-12-25", "2026-12-28"), "2026-12-29 16:00"),
    ("holidays given as date objects", 2, "standard", LONDON, "2026-12-24 16:00", (date(2026, 12, 25), date(2026, 12, 28)), "2026-12-29 16:00"),
    ("a holiday on a weekend changes nothing", 2, "standard", LONDON, "2026-01-09 15:00", ("2026-01-10",), "2026-01-12 15:00"),
    ("half-hour offset zone", 2, "standard", KOLKATA, "2026-01-05 10:30", (), "2026-01-06 10:30"),
    ("kolkata friday into monday", 3, "premium", KOLKATA, "2026-01-09 16:45", (), "2026-01-12 16:45"),
    ("new york across spring-forward weekend", 2, "standard", NY, "2026-03-06 16:00", (), "2026-03-09 16:00"),
    ("new york across fall-back weekend", 2, "standard", NY, "2026-10-30 16:00", (), "2026-11-02 16:00"),
    ("london across the october change", 4, "premium", LONDON, "2026-10-23 10:00", (), "2026-10-28 10:00"),
    ("london across the march change", 3, "standard", LONDON, "2026-03-27 12:00", (), "2026-04-01 12:00"),
    ("sydney across the end of daylight saving", 3, "premium", SYDNEY, "2026-04-03 12:00", (), "2026-04-06 12:00"),
    ("sydney across the start of daylight saving", 2, "standard", SYDNEY, "2026-10-02 13:00", (), "2026-10-05 13:00"),
]


@pytest.mark.parametrize(
    "severity,plan,zone,opened,holidays,due",
    [case[1:] for case in BUSINESS_CASES],
    ids=[case[0] for case in BUSINESS_CASES],
)
def test_business_clock(severity, plan, zone, opened, holidays, due):
    result = response_due(severity, plan, at(zone, opened), zone, holidays)
    assert result == at(zone, due)
    assert result.tzinfo is not None
    # The result is expressed in the organisation's zone, so its wall time reads as expected.
    assert result.replace(tzinfo=None) == datetime.fromisoformat(due)


def test_opened_at_in_another_zone_is_the_same_instant():
    # 03:00 UTC is 08:30 in Kolkata: before opening, so the clock starts at 09:00 IST.
    opened = datetime(2026, 1, 5, 3, 0, tzinfo=UTC)
    assert response_due(2, "standard", opened, KOLKATA) == at(KOLKATA, "2026-01-05 17:00")


def test_holidays_are_dates_in_the_local_calendar():
    # Sunday 20:00 UTC is already Monday 01:30 in Kolkata; Monday is a Kolkata holiday.
    opened = datetime(2026, 1, 4, 20, 0, tzinfo=UTC)
    assert response_due(2, "standard", opened, KOLKATA, ["2026-01-05"]) == at(KOLKATA, "2026-01-06 17:00")
    assert response_due(2, "standard", opened, KOLKATA) == at(KOLKATA, "2026-01-05 17:00")


def test_business_time_is_real_time_of_each_window_on_a_dst_weekend():
    # Spring forward in New York: the due time keeps its wall-clock meaning, not 72 real hours later.
    opened = at(NY, "2026-03-06 16:00")
    due = response_due(2, "standard", opened, NY)
    assert due.astimezone(UTC) - opened.astimezone(UTC) == timedelta(hours=71)  # Fri 16:00 EST -> Mon 16:00 EDT is 71 real hours


def test_a_day_that_does_not_exist_locally_is_skipped():
    # Samoa skipped Friday 30 December 2011 entirely when it moved across the date line.
    zone = "Pacific/Apia"
    due = response_due(2, "standard", at(zone, "2011-12-29 16:00"), zone)
    assert due == at(zone, "2012-01-02 16:00")  # 1 hour Thursday, 7 hours Monday


ELAPSED_CASES = [
    ("severity 1 standard: four hours", 1, "standard", LONDON, "2026-01-06 10:00", "2026-01-06 14:00"),
    ("severity 1 premium ignores the weekend", 1, "premium", LONDON, "2026-01-10 23:00", "2026-01-11 00:00"),
    ("severity 1 ignores business hours at night", 1, "standard", KOLKATA, "2026-01-05 22:30", "2026-01-06 02:30"),
    ("severity 2 premium: five hours round the clock", 2, "premium", LONDON, "2026-01-09 15:00", "2026-01-09 20:00"),
    ("new york spring forward: four real hours show as five on the clock", 1, "standard", NY, "2026-03-08 00:30", "2026-03-08 05:30"),
    ("new york fall back: four real hours show as three on the clock", 1, "standard", NY, "2026-11-01 00:30", "2026-11-01 03:30"),
    ("london spring forward, premium one hour", 1, "premium", LONDON, "2026-03-29 00:30", "2026-03-29 02:30"),
    ("london fall back, premium severity 2", 2, "premium", LONDON, "2026-10-25 00:30", "2026-10-25 04:30"),
    ("sydney end of daylight saving", 2, "premium", SYDNEY, "2026-04-05 01:30", "2026-04-05 05:30"),
    ("sydney start of daylight saving", 1, "premium", SYDNEY, "2026-10-04 01:30", "2026-10-04 03:30"),
]


@pytest.mark.parametrize(
    "severity,plan,zone,opened,due", [case[1:] for case in ELAPSED_CASES], ids=[case[0] for case in ELAPSED_CASES]
)
def test_round_the_clock_targets_are_real_elapsed_hours(severity, plan, zone, opened, due):
    start = at(zone, opened)
    result = response_due(severity, plan, start, zone, ["2026-01-06", "2026-01-09", "2026-01-10"])
    assert result.replace(tzinfo=None) == datetime.fromisoformat(due)
    hours = {(1, "standard"): 4, (1, "premium"): 1, (2, "premium"): 5}[(severity, plan)]
    assert result.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=hours)


def test_plan_and_severity_may_be_enums_or_strings():
    from kb.accounts.models import Plan

    opened = at(LONDON, "2026-01-05 10:00")
    assert response_due(2, Plan.STANDARD, opened, LONDON) == response_due("2", "Standard", opened, ZoneInfo(LONDON))


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"opened_at": datetime(2026, 1, 5, 10, 0)}, "no timezone"),
        ({"severity": 0}, "Unknown severity 0"),
        ({"severity": 5}, "Unknown severity 5"),
        ({"severity": "urgent"}, "Unknown severity 'urgent'"),
        ({"severity": True}, "Unknown severity True"),
        ({"severity": 1.5}, "Unknown severity 1.5"),
        ({"plan": "gold"}, "Unknown support plan 'gold'"),
        ({"plan": None}, "Unknown support plan None"),
        ({"tz": "Mars/Olympus_Mons"}, "Unknown timezone 'Mars/Olympus_Mons'"),
        ({"tz": ""}, "Unknown timezone ''"),
        ({"tz": "../../etc/passwd"}, "Unknown timezone"),
        ({"holidays": ["2026-13-01"]}, "Holiday '2026-13-01' is not a date"),
    ],
)
def test_bad_input_raises_a_clear_value_error(kwargs, message):
    args = {"severity": 2, "plan": "standard", "opened_at": at(LONDON, "2026-01-05 10:00"), "tz": LONDON}
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        response_due(**args)


def test_configurable_hours_days_and_targets():
    policy = make_policy(opens="08:00", closes="18:00", weekdays=[0, 1, 2, 3, 4, 5],
                         targets={"2/standard": "2 business hours", "1/premium": "0.5 hours"})
    assert policy.business_day == timedelta(hours=10)
    # Saturday is a working day now, and a business day is ten hours.
    assert response_due(3, "premium", at(LONDON, "2026-01-10 08:00"), LONDON, policy=policy) == at(LONDON, "2026-01-10 18:00")
    assert response_due(2, "standard", at(LONDON, "2026-01-09 17:00"), LONDON, policy=policy) == at(LONDON, "2026-01-10 09:00")
    assert response_due(1, "premium", at(LONDON, "2026-01-11 03:00"), LONDON, policy=policy) == at(LONDON, "2026-01-11 03:30")


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"opens": "17:00", "closes": "09:00"}, "open before they close"),
        ({"opens": "nine"}, "time like 09:00"),
        ({"weekdays": []}, "non-empty"),
        ({"targets": {"2/standard": "soon"}}, "looks like"),
        ({"targets": {"7/standard": "1 hours"}}, "Unknown severity"),
        ({"targets": {"2/standard": "-1 hours"}}, "positive"),
    ],
)
def test_bad_policy_configuration_is_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_policy(**kwargs)


def test_target_labels():
    assert sla.target_for(4, "standard").label() == "5 business days"
    assert sla.target_for(3, "premium").label() == "1 business day"
    assert sla.target_for(2, "premium").label() == "5 hours"
    assert sla.target_for(1, "premium").label() == "1 hour"
    assert sla.target_for(1, "premium").clock == sla.ELAPSED
    assert sla.target_for(2, "standard").clock == sla.BUSINESS


def test_clock_time_and_fraction_left():
    opened = at(LONDON, "2026-01-09 15:00")  # Friday, 8 business hours target
    monday_morning = at(LONDON, "2026-01-12 09:00")
    assert clock_time_between(2, "standard", opened, monday_morning, LONDON) == timedelta(hours=2)
    assert fraction_left(2, "standard", opened, monday_morning, LONDON) == pytest.approx(0.75)
    assert fraction_left(2, "standard", opened, at(LONDON, "2026-01-12 13:30"), LONDON) == pytest.approx(1.5 / 8)  # 2h Friday + 4.5h Monday used
    assert fraction_left(2, "standard", opened, at(LONDON, "2026-01-12 16:00"), LONDON) < 0
    assert fraction_left(1, "standard", opened, opened + timedelta(hours=3), LONDON) == pytest.approx(0.25)
    assert clock_time_between(2, "standard", monday_morning, opened, LONDON) == timedelta(0)


def test_is_business_time():
    assert is_business_time(at(LONDON, "2026-01-05 09:00"), LONDON)
    assert is_business_time(at(LONDON, "2026-01-05 17:00"), LONDON)
    assert not is_business_time(at(LONDON, "2026-01-05 17:01"), LONDON)
    assert not is_business_time(at(LONDON, "2026-01-10 12:00"), LONDON)
    assert not is_business_time(at(LONDON, "2026-01-05 12:00"), LONDON, ["2026-01-05"])


ZONES = [LONDON, NY, KOLKATA, SYDNEY, "UTC", "Pacific/Chatham", "America/Sao_Paulo", "Asia/Tehran"]
instants = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC))
holiday_lists = st.lists(st.dates(min_value=date(1999, 12, 1), max_value=date(2040, 2, 1)), max_size=30)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sla.SEVERITIES), st.sampled_from(sla.PLANS), instants, st.sampled_from(ZONES), holiday_lists)
def test_due_is_always_after_opening(severity, plan, opened, zone, holidays):
    due = response_due(severity, plan, opened, zone, holidays)
    assert due > opened
    assert due.utcoffset() is not None


BUSINESS_TARGETS = [key for key, target in sla.DEFAULT_TARGETS.items() if target.clock == sla.BUSINESS]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(BUSINESS_TARGETS), instants, st.sampled_from(ZONES), holiday_lists)
def test_business_due_lies_in_business_hours_and_spends_exactly_the_target(key, opened, zone, holidays):
    severity, plan = key
    due = response_due(severity, plan, opened, zone, holidays)
    local = due.astimezone(ZoneInfo(zone))
    assert local.weekday() < 5
    assert local.date() not in set(holidays)
    assert time(9, 0) < local.time() <= time(17, 0)
    assert is_business_time(due, zone, holidays)
    spent = clock_time_between(severity, plan, opened, due, zone, holidays)
    assert spent == sla.DEFAULT_POLICY.duration(sla.target_for(severity, plan))


def test_public_checks_for_zone_and_holidays():
    assert sla.check_zone("Asia/Kolkata") == ZoneInfo("Asia/Kolkata")
    with pytest.raises(ValueError, match="Unknown timezone"):
        sla.check_zone("Nowhere/Atlantis")
    assert sla.holiday_dates(["2026-01-06", date(2026, 1, 7)]) == {date(2026, 1, 6), date(2026, 1, 7)}
    with pytest.raises(ValueError, match="not a date"):
        sla.holiday_dates(["soon"])


class NoonShift(tzinfo):
    """A made-up zone that moves its clocks forward an hour at 12:00 on Wednesday 7 January 2026."""

    SHIFT_LOCAL = datetime(2026, 1, 7, 12, 0)
    SHIFT_UTC = datetime(2026, 1, 7, 12, 0)

    def utcoffset(self, dt):
        return timedelta(hours=1) if dt.replace(tzinfo=None) >= self.SHIFT_LOCAL else timedelta(0)

    def dst(self, dt):
        return self.utcoffset(dt)

    def tzname(self, dt):
        return "NOON"

    def fromutc(self, dt):
        naive = dt.replace(tzinfo=None)
        return (naive + (timedelta(hours=1) if naive >= self.SHIFT_UTC else timedelta(0))).replace(tzinfo=self)


def test_a_clock_change_inside_the_window_counts_real_time():
    # On the change day 09:00-17:00 local is only 7 real hours, so one business day runs into Thursday.
    zone = NoonShift()
    opened = datetime(2026, 1, 7, 9, 0, tzinfo=zone)
    due = response_due(2, "standard", opened, zone)
    assert due.replace(tzinfo=None) == datetime(2026, 1, 8, 10, 0)
    assert clock_time_between(2, "standard", opened, datetime(2026, 1, 7, 17, 0, tzinfo=zone), zone) == timedelta(hours=7)
