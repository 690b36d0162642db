"""The location's custom-field definitions: match record keys, coerce values by dataType."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

TEXT_TYPES = frozenset({"TEXT", "LARGE_TEXT", "SINGLE_OPTIONS", "RADIO", "PHONE", "EMAIL"})
NUMBER_TYPES = frozenset({"NUMERICAL", "MONETORY"})
LIST_TYPES = frozenset({"CHECKBOX", "MULTIPLE_OPTIONS"})
DATE_TYPES = frozenset({"DATE"})
OPTION_TYPES = frozenset({"SINGLE_OPTIONS", "RADIO"})


class Unusable(ValueError):
    """A value that cannot be written to a field of this dataType."""


@dataclass(frozen=True)
class FieldDefinition:
    """One custom field of the location."""

    id: str
    name: str
    field_key: str
    data_type: str
    options: tuple[str, ...] = ()

    def coerce(self, value: Any) -> Any:
        """The value in the shape GHL expects for this dataType."""
        kind = self.data_type.upper()
        if kind in NUMBER_TYPES:
            return _number(value)
        if kind in LIST_TYPES:
            return [self._option(item) for item in _strings(value)]
        if kind in DATE_TYPES:
            return _date(value)
        if kind in TEXT_TYPES:
            text = _string(value)
            return self._option(text) if kind in OPTION_TYPES else text
        raise Unusable(f"dataType {kind} is not supported")

    def _option(self, text: str) -> str:
        """The picklist's own spelling of a value (GHL compares exactly)."""
        if not self.options:
            return text
        for option in self.options:
            if option.casefold() == text.casefold():
                return option
        raise Unusable("not one of the field's options")


def _string(value: Any) -> str:
    if isinstance(value, list):
        value = ", ".join(str(item) for item in value)
    if value is None or isinstance(value, dict):
        raise Unusable("not text")
    text = str(value).strip()
    if not text:
        raise Unusable("empty")
    return text


def _number(value: Any) -> int | float:
    if isinstance(value, bool):
        raise Unusable("not a number")
    try:
        number = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation as exc:
        raise Unusable("not a number") from exc
    if not number.is_finite():
        raise Unusable("not a number")
    return int(number) if number == number.to_integral_value() else float(number)


def _strings(value: Any) -> list[str]:
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list):
        items = [items]
    strings = [str(item).strip() for item in items if item is not None and str(item).strip()]
    if not strings:
        raise Unusable("empty")
    return strings


def _date(value: Any) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = _string(value)
    try:
        return date.fromisoformat(text[:10]).isoformat()
    except ValueError as exc:
        raise Unusable("not an ISO date") from exc


class CustomFieldCatalog:
    """Lookup by `fieldKey` (`contact.x`), bare key (`x`) or display name (any case)."""

    def __init__(self, definitions: list[dict[str, Any]]) -> None:
        self._by_key: dict[str, FieldDefinition] = {}
        self._by_name: dict[str, FieldDefinition] = {}
        for raw in definitions:
            if not raw.get("id"):
                continue
            definition = FieldDefinition(
                id=str(raw["id"]),
                name=str(raw.get("name") or ""),
                field_key=str(raw.get("fieldKey") or ""),
                data_type=str(raw.get("dataType") or "TEXT"),
                options=tuple(str(o) for o in raw.get("picklistOptions") or ()),
            )
            if definition.field_key:
                self._by_key[definition.field_key.lower()] = definition
            if definition.name:
                self._by_name.setdefault(_folded(definition.name), definition)

    def find(self, name: str) -> FieldDefinition | None:
        """The field a record key means, or None."""
        key = name.strip().lower()
        return (
            self._by_key.get(key)
            or self._by_key.get(f"contact.{key}")
            or self._by_name.get(_folded(name))
        )


def _folded(name: str) -> str:
    return " ".join(name.split()).casefold()
