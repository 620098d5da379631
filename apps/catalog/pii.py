"""Personal-data detectors: pure functions over a column's name and a sample of its values.

No Django here. Each detector answers with a category key of the default taxonomy (``contact``,
``government-id``, ``financial``, ...). Evidence carries counts and masked examples only: a raw
sampled value never leaves this module.
"""

import hashlib
import ipaddress
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

# A name hint alone is weak evidence; values matching are strong.
NAME_CONFIDENCE = 0.4
MIN_CONFIDENCE = 0.3
# A value detector counts when at least this share of sampled non-null values match.
MIN_FRACTION = 0.3
MAX_EXAMPLES = 3


@dataclass(frozen=True)
class Finding:
    """One category a column probably holds, how sure we are, and why."""

    category: str
    detector: str
    confidence: float
    evidence: dict[str, Any] = field(default_factory=dict)


# --- value checks -----------------------------------------------------------------------------

_EMAIL = re.compile(r"^[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,24}$")
_E164 = re.compile(r"^\+[1-9]\d{7,14}$")
_PHONE = re.compile(r"^(\+\d{1,3}[ .-]?)?(\(\d{2,4}\)[ .-]?|\d{2,4}[ .-])\d{3,4}[ .-]?\d{3,4}$")
_SSN = re.compile(r"^(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}$")
_NINO = re.compile(r"^[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]\d{6}[A-D]$")
_NINO_NEVER = {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"}
_CARD_CHARS = re.compile(r"^\d[\d -]{11,22}\d$")
_IBAN = re.compile(r"^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$")
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[ T].*)?$")
# IBAN lengths of common countries; other countries are checked by the general shape only.
_IBAN_LENGTHS = {
    "AT": 20, "BE": 16, "CH": 21, "CZ": 24, "DE": 22, "DK": 18, "ES": 24, "FI": 18, "FR": 27,
    "GB": 22, "GR": 27, "IE": 22, "IT": 27, "LU": 20, "NL": 18, "NO": 15, "PL": 28, "PT": 25,
    "SE": 24,
}  # fmt: skip


def luhn_valid(digits: str) -> bool:
    """The Luhn (mod 10) checksum that every payment card number carries."""
    if not digits.isdigit():
        return False
    total = 0
    for i, char in enumerate(reversed(digits)):
        n = int(char)
        if i % 2 == 1:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def _card_brand_prefix(digits: str) -> bool:
    """Issuer prefixes of the major networks (Visa, Mastercard, Amex, Discover, JCB, Diners)."""
    two, four = int(digits[:2]), int(digits[:4])
    return (
        digits[0] == "4"
        or 51 <= two <= 55
        or 2221 <= four <= 2720
        or two in (34, 37, 36, 38, 30, 35, 65)
        or four == 6011
        or 644 <= int(digits[:3]) <= 649
    )


def is_email(value: str) -> bool:
    return len(value) <= 254 and bool(_EMAIL.match(value))


def is_phone(value: str) -> bool:
    digits = sum(c.isdigit() for c in value)
    if not 8 <= digits <= 15:
        return False
    return bool(_E164.match(value) or _PHONE.match(value))


def is_us_ssn(value: str) -> bool:
    return bool(_SSN.match(value))


def is_uk_nino(value: str) -> bool:
    compact = value.replace(" ", "").upper()
    return bool(_NINO.match(compact)) and compact[:2] not in _NINO_NEVER


def is_card_number(value: str) -> bool:
    if not _CARD_CHARS.match(value):
        return False
    digits = re.sub(r"[ -]", "", value)
    return 13 <= len(digits) <= 19 and _card_brand_prefix(digits) and luhn_valid(digits)


def iban_valid(value: str) -> bool:
    """Shape, known country length, and the ISO 13616 mod-97 check."""
    compact = value.replace(" ", "").upper()
    if not _IBAN.match(compact):
        return False
    expected = _IBAN_LENGTHS.get(compact[:2])
    if expected is not None and len(compact) != expected:
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1


def _host_address(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """The address in ``value``; Postgres ``inet`` prints a host as ``192.0.2.1/32``.

    Raises ``ValueError`` for anything else, including networks (``10.0.0.0/8``).
    """
    if "/" not in value:
        return ipaddress.ip_address(value)
    interface = ipaddress.ip_interface(value)
    if interface.network.prefixlen != interface.max_prefixlen:
        raise ValueError(f"{value!r} is a network, not one host")
    return interface.ip


def is_ip_address(value: str) -> bool:
    try:
        _host_address(value)
    except ValueError:
        return False
    return True


def is_plausible_birth_date(value: str, *, today: date | None = None) -> bool:
    """An ISO date between 120 years ago and today (no one is born in the future)."""
    match = _DATE.match(value)
    if not match:
        return False
    try:
        born = date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return False
    today = today or datetime.now(UTC).date()
    return date(today.year - 120, 1, 1) <= born <= today


# --- masking: what evidence may show ----------------------------------------------------------


def _mask_digits(value: str, keep: int = 2) -> str:
    seen = sum(c.isdigit() for c in value)
    out, index = [], 0
    for c in value:
        if c.isdigit():
            index += 1
            out.append(c if index > seen - keep else "*")
        else:
            out.append(c)
    return "".join(out)


def mask_email(value: str) -> str:
    local, _, domain = value.partition("@")
    host, _, tld = domain.rpartition(".")
    return f"{local[:1]}***@{host[:1]}***.{tld}"


def mask_card(value: str) -> str:
    return "****" + re.sub(r"\D", "", value)[-4:]


def mask_iban(value: str) -> str:
    compact = value.replace(" ", "").upper()
    return compact[:2] + "*" * (len(compact) - 6) + compact[-4:]


def mask_ip(value: str) -> str:
    address = _host_address(value)
    if address.version == 4:
        return ".".join([*str(address).split(".")[:2], "*", "*"])
    return str(address.exploded).split(":")[0] + ":*"


def mask_nino(value: str) -> str:
    compact = value.replace(" ", "").upper()
    return compact[:2] + "*" * (len(compact) - 2)


def mask_date(value: str) -> str:
    return value[:2] + "**-**-**"


# --- detectors --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ValueDetector:
    key: str
    category: str
    matches: Callable[[str], bool]
    mask: Callable[[str], str]
    # When set, only counted if the column's name holds one of these phrases (a date is not a
    # birth date unless the column says so).
    requires_hint: frozenset[str] | None = None


VALUE_DETECTORS: tuple[ValueDetector, ...] = (
    ValueDetector("email", "contact", is_email, mask_email),
    ValueDetector("phone", "contact", is_phone, _mask_digits),
    ValueDetector("us_ssn", "government-id", is_us_ssn, _mask_digits),
    ValueDetector("uk_nino", "government-id", is_uk_nino, mask_nino),
    ValueDetector("payment_card", "financial", is_card_number, mask_card),
    ValueDetector("iban", "financial", iban_valid, mask_iban),
    ValueDetector("ip_address", "online-id", is_ip_address, mask_ip),
    ValueDetector(
        "date_of_birth",
        "demographic",
        is_plausible_birth_date,
        mask_date,
        requires_hint=frozenset({"dob", "date_of_birth", "birth_date", "birthdate", "birthday"}),
    ),
)

# Column-name hints: category -> phrases (tokens joined by "_"), matched on whole tokens.
NAME_HINTS: dict[str, tuple[str, ...]] = {
    "contact": (
        "email", "e_mail", "mail", "phone", "mobile", "telephone", "tel", "fax", "msisdn",
        "address", "street", "postcode", "postal_code", "zip", "zipcode",
    ),
    "name": (
        "first_name", "last_name", "full_name", "given_name", "family_name", "middle_name",
        "surname", "forename", "firstname", "lastname", "fullname", "maiden_name",
    ),
    "government-id": (
        "ssn", "social_security", "nino", "ni_number", "national_insurance", "national_id",
        "passport", "tax_id", "tin", "driver_license", "drivers_license", "driving_licence",
    ),
    "financial": (
        "card_number", "credit_card", "cc_number", "pan", "card_pan", "iban", "bic", "swift",
        "account_number", "routing_number", "bank_account", "salary", "income",
    ),
    "health": (
        "diagnosis", "medical", "health", "icd", "icd10", "prescription", "medication",
        "treatment", "allergy", "allergies", "blood_type", "symptom", "symptoms",
    ),
    "biometric": ("fingerprint", "biometric", "face_template", "retina"),
    "location": (
        "lat", "lng", "lon", "latitude", "longitude", "geo", "geolocation", "gps", "coordinates",
    ),
    "online-id": (
        "ip", "ip_address", "ipaddress", "ip_addr", "user_agent", "device_id", "cookie",
        "mac_address",
    ),
    "demographic": (
        "dob", "date_of_birth", "birth_date", "birthdate", "birthday", "born", "gender", "sex",
        "age", "ethnicity", "race",
    ),
    "credentials": (
        "password", "passwd", "pwd", "password_hash", "secret", "api_key", "apikey", "token",
        "access_token", "refresh_token", "private_key", "client_secret",
    ),
}  # fmt: skip

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def name_tokens(column_name: str) -> list[str]:
    """``"customerEmail-Address"`` -> ``["customer", "email", "address"]``."""
    spaced = _CAMEL.sub("_", column_name)
    return [t for t in re.split(r"[^A-Za-z0-9]+", spaced.lower()) if t]


def name_hint(column_name: str) -> dict[str, str]:
    """Categories the column's name suggests, each with the phrase that matched.

    A phrase inside a longer phrase of another category does not count: ``ip_address`` is an
    online identifier, not a postal ``address``.
    """
    joined = "_" + "_".join(name_tokens(column_name)) + "_"
    matched = [
        (category, phrase)
        for category, phrases in NAME_HINTS.items()
        for phrase in phrases
        if f"_{phrase}_" in joined
    ]
    found: dict[str, str] = {}
    for category, phrase in matched:
        shadowed = any(
            other_category != category
            and len(other) > len(phrase)
            and f"_{phrase}_" in f"_{other}_"
            for other_category, other in matched
        )
        if not shadowed:
            found.setdefault(category, phrase)
    return found


def _combine(*confidences: float) -> float:
    """Independent evidence (noisy-or), kept below certainty."""
    doubt = 1.0
    for c in confidences:
        doubt *= 1.0 - c
    return round(min(0.99, 1.0 - doubt), 3)


def detect_column(column_name: str, values: Iterable[str | None]) -> list[Finding]:
    """What personal data a column probably holds, from its name and sampled values (as text).

    At most one finding per category, most confident first.
    """
    sample = list(values)
    present = [v.strip() for v in sample if v is not None and v.strip()]
    hints = name_hint(column_name)
    best: dict[str, Finding] = {}
    for detector in VALUE_DETECTORS:
        hint = hints.get(detector.category)
        if detector.requires_hint is not None and hint not in detector.requires_hint:
            continue
        matched = [v for v in present if detector.matches(v)]
        if not matched:
            continue
        fraction = len(matched) / len(present)
        if fraction < MIN_FRACTION or (len(matched) < 2 and len(present) > 1):
            continue
        value_confidence = 0.5 + 0.45 * fraction
        confidence = (
            _combine(value_confidence, NAME_CONFIDENCE) if hint else round(value_confidence, 3)
        )
        examples = sorted({detector.mask(v) for v in matched})[:MAX_EXAMPLES]
        finding = Finding(
            category=detector.category,
            detector=detector.key,
            confidence=confidence,
            evidence={
                "sampled": len(sample),
                "non_null": len(present),
                "matched": len(matched),
                "fraction": round(fraction, 3),
                "name_hint": hint,
                "examples": examples,
            },
        )
        current = best.get(detector.category)
        if current is None or finding.confidence > current.confidence:
            best[detector.category] = finding
    for category, hint in hints.items():
        if category not in best:
            best[category] = Finding(
                category=category,
                detector="column_name",
                confidence=NAME_CONFIDENCE,
                evidence={
                    "sampled": len(sample),
                    "non_null": len(present),
                    "matched": 0,
                    "fraction": 0.0,
                    "name_hint": hint,
                    "examples": [],
                },
            )
    found = [f for f in best.values() if f.confidence >= MIN_CONFIDENCE]
    return sorted(found, key=lambda f: (-f.confidence, f.category))


def content_digest(values: Sequence[str | None]) -> str:
    """sha256 of the sorted sampled values: changes when the sampled content changes."""
    digest = hashlib.sha256()
    for value in sorted("\x01" if v is None else "\x02" + v for v in values):
        digest.update(value.encode())
        digest.update(b"\x00")
    return digest.hexdigest()
