"""Phone numbers to E.164, and split into calling code and national number."""

from __future__ import annotations

import phonenumbers


def parse_phone(raw: object, default_region: str | None = None) -> phonenumbers.PhoneNumber | None:
    """A valid parsed number, or None when the input is not a plausible phone."""
    if not isinstance(raw, (str, int)) or isinstance(raw, bool):
        return None
    text = str(raw).strip()
    if not text or len(text) > 40:
        return None
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, None if text.startswith("+") else default_region)
    except phonenumbers.NumberParseException:
        return None
    return number if phonenumbers.is_valid_number(number) else None


def to_e164(raw: object, default_region: str | None = None) -> str | None:
    """E.164 form (`+14155552671`), or None when the number is not valid."""
    number = parse_phone(raw, default_region)
    if number is None:
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def split_calling_code(
    raw: object, default_calling_code: str | int | None
) -> tuple[str, str] | None:
    """(`"44"`, `"7911123456"`) for a number, local ones read in the default calling code."""
    region = None
    if default_calling_code is not None:
        region = phonenumbers.region_code_for_country_code(
            int(str(default_calling_code).lstrip("+"))
        )
        region = None if region == "ZZ" else region
    number = parse_phone(raw, region)
    if number is None:
        return None
    return str(number.country_code), phonenumbers.national_significant_number(number)
