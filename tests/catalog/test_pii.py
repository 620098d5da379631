"""The pure PII detectors: each value check, masking, and the column-level verdict."""

from datetime import date

import pytest

from apps.catalog import pii


@pytest.mark.parametrize(
    ("check", "value", "expected"),
    [
        pytest.param(pii.is_email, "jane.doe@example.com", True, id="email"),
        pytest.param(pii.is_email, "o'brien+news@mail.example.co.uk", True, id="email-plus-tag"),
        pytest.param(pii.is_email, "not an email", False, id="email-plain-text"),
        pytest.param(pii.is_email, "jane@localhost", False, id="email-no-tld"),
        pytest.param(pii.is_phone, "+14155550101", True, id="phone-e164"),
        pytest.param(pii.is_phone, "(415) 555-0102", True, id="phone-us-parens"),
        pytest.param(pii.is_phone, "415-555-0104", True, id="phone-us-dashes"),
        pytest.param(pii.is_phone, "+44 20 7946 0958", True, id="phone-uk-spaced"),
        pytest.param(pii.is_phone, "2024-01-15", False, id="phone-not-a-date"),
        pytest.param(pii.is_phone, "123-45-6789", False, id="phone-not-an-ssn"),
        pytest.param(pii.is_phone, "12345", False, id="phone-too-short"),
        pytest.param(pii.is_us_ssn, "123-45-6789", True, id="ssn"),
        pytest.param(pii.is_us_ssn, "000-12-3456", False, id="ssn-area-000"),
        pytest.param(pii.is_us_ssn, "666-12-3456", False, id="ssn-area-666"),
        pytest.param(pii.is_us_ssn, "123-00-6789", False, id="ssn-group-00"),
        pytest.param(pii.is_us_ssn, "123456789", False, id="ssn-undashed"),
        pytest.param(pii.is_uk_nino, "AB123456C", True, id="nino"),
        pytest.param(pii.is_uk_nino, "ce 12 34 56 d", True, id="nino-spaced-lowercase"),
        pytest.param(pii.is_uk_nino, "GB123456A", False, id="nino-forbidden-prefix"),
        pytest.param(pii.is_uk_nino, "DA123456A", False, id="nino-bad-first-letter"),
        pytest.param(pii.is_uk_nino, "AB123456E", False, id="nino-bad-suffix"),
        pytest.param(pii.is_card_number, "4242 4242 4242 4242", True, id="card-visa-spaced"),
        pytest.param(pii.is_card_number, "5555555555554444", True, id="card-mastercard"),
        pytest.param(pii.is_card_number, "378282246310005", True, id="card-amex"),
        pytest.param(pii.is_card_number, "6011-1111-1111-1117", True, id="card-discover-dashed"),
        pytest.param(pii.is_card_number, "4242 4242 4242 4241", False, id="card-luhn-invalid"),
        pytest.param(pii.is_card_number, "1234567812345670", False, id="card-luhn-ok-no-issuer"),
        pytest.param(pii.is_card_number, "4242", False, id="card-too-short"),
        pytest.param(pii.iban_valid, "DE89 3704 0044 0532 0130 00", True, id="iban-de-spaced"),
        pytest.param(pii.iban_valid, "GB82WEST12345698765432", True, id="iban-gb"),
        pytest.param(pii.iban_valid, "FR1420041010050500013M02606", True, id="iban-fr-letters"),
        pytest.param(pii.iban_valid, "GB82WEST12345698765433", False, id="iban-mod97-invalid"),
        pytest.param(pii.iban_valid, "DE8937040044053201300", False, id="iban-wrong-length"),
        pytest.param(pii.is_ip_address, "192.168.1.20", True, id="ipv4"),
        pytest.param(pii.is_ip_address, "2001:db8::1", True, id="ipv6"),
        pytest.param(pii.is_ip_address, "256.1.1.1", False, id="ipv4-out-of-range"),
        pytest.param(pii.is_ip_address, "1.2.3", False, id="ip-three-parts"),
        pytest.param(pii.is_ip_address, "192.168.1.20/32", True, id="ipv4-postgres-inet-host"),
        pytest.param(pii.is_ip_address, "2001:db8::1/128", True, id="ipv6-postgres-inet-host"),
        pytest.param(pii.is_ip_address, "10.0.0.0/8", False, id="ip-network-not-a-host"),
    ],
)
def test_value_checks(check, value, expected):
    assert check(value) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("1985-04-12", True, id="adult"),
        pytest.param("2024-06-01", True, id="newborn"),
        pytest.param("1899-12-31", False, id="older-than-120"),
        pytest.param("2030-01-01", False, id="in-the-future"),
        pytest.param("1985-02-30", False, id="no-such-day"),
        pytest.param("12/04/1985", False, id="not-iso"),
    ],
)
def test_plausible_birth_dates(value, expected):
    assert pii.is_plausible_birth_date(value, today=date(2025, 1, 1)) is expected


@pytest.mark.parametrize(
    ("mask", "value", "expected"),
    [
        pytest.param(pii.mask_email, "jane.doe@example.com", "j***@e***.com", id="email"),
        pytest.param(pii.mask_card, "4242 4242 4242 4242", "****4242", id="card"),
        pytest.param(pii.mask_iban, "GB82WEST12345698765432", "GB****************5432", id="iban"),
        pytest.param(pii.mask_ip, "192.168.1.20", "192.168.*.*", id="ipv4"),
        pytest.param(pii.mask_ip, "2001:db8::1", "2001:*", id="ipv6"),
        pytest.param(pii.mask_ip, "192.168.1.20/32", "192.168.*.*", id="ipv4-postgres-inet"),
        pytest.param(pii.mask_nino, "AB123456C", "AB*******", id="nino"),
        pytest.param(pii.mask_date, "1985-04-12", "19**-**-**", id="date"),
    ],
)
def test_masks_hide_the_value(mask, value, expected):
    assert mask(value) == expected


@pytest.mark.parametrize(
    ("column", "expected"),
    [
        pytest.param("email", {"contact": "email"}, id="plain"),
        pytest.param("customerEmailAddress", {"contact": "email"}, id="camel-case"),
        pytest.param("home_lat", {"location": "lat"}, id="suffix-token"),
        pytest.param("api_key", {"credentials": "api_key"}, id="credentials"),
        pytest.param("primary_diagnosis", {"health": "diagnosis"}, id="health"),
        pytest.param("date_of_birth", {"demographic": "date_of_birth"}, id="dob-long"),
        pytest.param("ip_address", {"online-id": "ip"}, id="ip-address-is-not-postal"),
        pytest.param("mac_address", {"online-id": "mac_address"}, id="mac-address-is-not-postal"),
        pytest.param("home_address", {"contact": "address"}, id="postal-address"),
        pytest.param("emailed_at", {}, id="not-a-whole-token"),
        pytest.param("template", {}, id="no-substring-matches"),
        pytest.param("amount", {}, id="business"),
    ],
)
def test_name_hints(column, expected):
    assert pii.name_hint(column) == expected


def _by_category(findings):
    return {f.category: f for f in findings}


def test_values_and_name_together_beat_either_alone():
    emails = ["jane@example.com", "bob@example.org", None, "li@example.net"]

    named = _by_category(pii.detect_column("email", emails))["contact"]
    unnamed = _by_category(pii.detect_column("col7", emails))["contact"]
    name_only = _by_category(pii.detect_column("email", ["x", "y"]))["contact"]

    assert named.confidence > unnamed.confidence > name_only.confidence
    assert named.detector == "email"
    assert name_only.detector == "column_name"
    assert named.evidence == {
        "sampled": 4,
        "non_null": 3,
        "matched": 3,
        "fraction": 1.0,
        "name_hint": "email",
        "examples": ["b***@e***.org", "j***@e***.com", "l***@e***.net"],
    }


def test_evidence_never_holds_a_raw_value():
    cards = ["4242 4242 4242 4242", "5555555555554444", "378282246310005"]

    [finding] = pii.detect_column("pan", cards)

    assert finding.category == "financial"
    assert not any(card in str(finding.evidence) for card in cards)
    assert "****4242" in finding.evidence["examples"]


def test_luhn_invalid_card_numbers_are_not_reported():
    assert pii.detect_column("reference", ["4242 4242 4242 4241", "5555555555554445"]) == []


def test_dates_are_birth_dates_only_when_the_name_says_so():
    dates = ["1985-04-12", "1990-11-30", "1972-01-05"]

    assert pii.detect_column("created_on", dates) == []
    [finding] = pii.detect_column("dob", dates)
    assert (finding.category, finding.detector) == ("demographic", "date_of_birth")


def test_a_few_stray_matches_in_a_text_column_are_ignored():
    notes = ["call me", "ok", "see ticket", "jane@example.com", "fine", "done", "n/a", "later"]

    assert pii.detect_column("notes", notes) == []


def test_plain_business_data_yields_nothing():
    assert pii.detect_column("status", ["open", "closed", "open", None]) == []
    assert pii.detect_column("amount", ["12.00", "30.10", "7.25"]) == []


def test_content_digest_ignores_order_and_notices_change():
    assert pii.content_digest(["a", None, "b"]) == pii.content_digest(["b", "a", None])
    assert pii.content_digest(["a", "b"]) != pii.content_digest(["a", "c"])
    assert pii.content_digest(["a", None]) != pii.content_digest(["a", "None"])
