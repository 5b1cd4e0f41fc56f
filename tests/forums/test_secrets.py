"""The secret scanner on realistic pasted logs and configs, and on text that must not raise an alarm."""

from __future__ import annotations

import time

import pytest

from kb.forums.secrets import (
    BUILTIN_RULES,
    PatternError,
    check_pattern,
    compile_rules,
    mask,
    scan,
)

PEM = """Here is the cert config:
-----BEGIN RSA PRIVATE KEY-----
MIIEowIBAAKCAQEAv2yE3L9Xk0bW2h6Y0pZ5bN7Xq9GZ1b4vJmHkq4aX8aP3rVbT
-----END RSA PRIVATE KEY-----
"""


@pytest.mark.parametrize(
    "text, name",
    [
        (PEM, "private-key"),
        ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n", "private-key"),
        ("2026-03-02 10:14:07 INFO s3 upload using AKIAQ3EGUMGXZ7W2KXJ5 to bucket dr-backups", "aws-access-key"),
        ("aws_secret_access_key = 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", "aws-secret-key"),
        ("curl -H 'Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.sig-part_x' https://zvm/api", "bearer-token"),
        ("export KB_TOKEN=kbt_Q2x0dE3v9S1mZkLrP8aWc7YbN4uHjG6fTqR5sK0oVxw", "api-token"),
        ("Licence: HS7Q2-4KD9X-PL3MZ-88RTA-Q1W2E (site A)", "licence-key"),
        ("license_key: 9f8e7d6c5b4a39281706", "licence-key"),
        ("[vcenter]\nhost=vc01.corp.example.com\nuser=administrator@vsphere.local\npassword=Winter2026!\n", "password"),
        ("ssh root@10.0.0.5  pwd: S3cr3tRoot", "password"),
        ("Connection string: postgresql://dr_app:Tr0ub4dor&3@db01.corp.example.com:5432/dr", "url-credentials"),
        ("client_secret=Zk8vQpL2mN4rT6yW1xC3bV5n", "generic-secret"),
        ("token ghp_aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5", "github-token"),
    ],
)
def test_finds_realistic_secrets(text, name):
    findings = scan(text)
    assert [f.name for f in findings] == [name]
    assert findings[0].line == text.count("\n", 0, findings[0].start) + 1


@pytest.mark.parametrize(
    "text",
    [
        "Upgraded from 7.3.0 to 8.0.1234 and the VRA on esx-04.dc1.example.com (10.20.30.40) stopped.",
        "Build 8.0.1234.567, VPG id 4210c9a3-5e2b-4d1f-9a77-0c3b2e8f1d55, port 9081/tcp",
        "password=******** and pwd: <redacted>, password: ${DR_PASSWORD}",
        "The password: field is required. Use `pwd: /var/log/harborsync` to check the folder.",
        "Authorization: Bearer <your token here>",
        "sha256 of the ISO: 9b74c9897bac770ffc029102a200c5de5a35e8f2e3f9a1a1b2c3d4e5f6a7b8c9",
        "Error HS-2104: journal full on datastore DS-PROD-01 (MTU 9000, RPO 15s)",
        "See https://support.example.com/articles/rpo-exceeded-alarm?ref=forum for details.",
        "",
    ],
)
def test_no_false_alarm_on_ordinary_text(text):
    assert scan(text) == []


def test_preview_is_masked():
    finding = scan("password=Winter2026!")[0]
    assert "Winter2026!" not in finding.preview
    assert finding.preview.startswith("W")
    assert "AKIA" in mask("AKIAQ3EGUMGXZ7W2KXJ5") and "GXZ7W2" not in mask("AKIAQ3EGUMGXZ7W2KXJ5")


def test_rules_are_configurable():
    rules = compile_rules({"vpn-psk": r"psk\s*=\s*\S{8,}"}, disabled=["password"])
    names = [f.name for f in scan("psk = abcdefgh1234\npassword=Winter2026!", rules)]
    assert names == ["vpn-psk"]


# --- Bounded work: every rule is linear or runs with a time limit ---------------------------------

ADVERSARIAL = {
    "digit-dash run": "1-" * 10_000,
    "letter-dash run": "A-" * 10_000,
    "dotted run": "a." * 10_000,
    "key-shaped groups": "AAAAA-" * 3_334,
    "colons after a scheme": "a://" + "a:" * 10_000,
}


@pytest.mark.parametrize("rule", BUILTIN_RULES, ids=lambda r: r.name)
def test_builtin_rules_are_fast_on_adversarial_text(rule):
    """The licence-key rule took 3.3 s on 20,000 characters; every rule must stay far below the scan limit."""
    for text in ADVERSARIAL.values():
        started = time.perf_counter()
        list(rule.regex.finditer(text, timeout=5))
        assert time.perf_counter() - started < 0.5, rule.name


def test_licence_key_rule_still_finds_keys_in_long_text():
    text = "1-" * 10_000 + " key HS7Q2-4KD9X-LM3PA-88QWE-Z1Y2X here"
    assert [f.name for f in scan(text)] == ["licence-key"]


@pytest.mark.parametrize("pattern", [r"(a+)+b", r"(a|aa)+b"])
def test_backtracking_pattern_is_refused_when_saved(pattern):
    with pytest.raises(PatternError, match="takes too long"):
        check_pattern(pattern, timeout=0.1)


def test_huge_repeat_count_is_a_pattern_error_not_an_overflow():
    with pytest.raises(PatternError, match="not a valid regular expression"):
        check_pattern("a{4294967296}")


def test_slow_rule_is_skipped_within_the_time_limit():
    """A 27-character edit took 11.5 s with (a+)+b; now the rule gives up after its limit."""
    rules = compile_rules({"slow": r"(a+)+b"})
    text = "a" * 5_000
    started = time.perf_counter()
    assert scan(text, rules, timeout=0.1) == []
    assert time.perf_counter() - started < 1.0


def test_ordinary_patterns_pass_the_save_check():
    assert check_pattern(r"psk\s*=\s*\S{8,}").pattern == r"psk\s*=\s*\S{8,}"
