"""GHL's request DTOs: the operations of `ghl_dtos.json`, checked with `jsonschema` and
refused in class-validator's words (`property x should not exist`, `x must be a string`)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, ValidationError, validators

DTO_FILE = Path(__file__).parents[1] / "ghl_dtos.json"

_TYPE_MESSAGES = {
    "string": "must be a string",
    "boolean": "must be a boolean value",
    "number": "must be a number conforming to the specified constraints",
    "integer": "must be an integer number",
    "array": "must be an array",
    "object": "must be an object",
    "null": "must be null",
}
_SCALAR_TYPES = frozenset({"string", "boolean", "number", "integer", "null"})
# class-validator reports a value's type, then its own constraints, then an object's
# whitelist, missing members and members.
_KEYWORD_ORDER = {
    keyword: rank
    for rank, keyword in enumerate(
        (
            "type",
            "enum",
            "pattern",
            "minimum",
            "maximum",
            "additionalProperties",
            "required",
            "properties",
            "items",
            "anyOf",
            "not",
        )
    )
}


@lru_cache(maxsize=1)
def operations() -> dict[str, Any]:
    """Per "METHOD /template": operationId, versions, query and body schemas."""
    data: dict[str, Any] = json.loads(DTO_FILE.read_text(encoding="utf-8"))["operations"]
    return {
        key: {
            **entry,
            "template": key.split(" ", 1)[1],
            "query": _in_class_validator_order(entry["query"]),
            "body": _in_class_validator_order(entry["body"]),
        }
        for key, entry in data.items()
    }


def dto_errors(schema: dict[str, Any], value: Any) -> list[str]:
    """class-validator style messages for `value` against a schema of `operations()`."""
    return _messages(_DtoValidator(schema).iter_errors(value))


def _in_class_validator_order(schema: Any) -> Any:
    """The schema with each level's keywords in the order class-validator reports them,
    since jsonschema applies them in the order they come."""
    if not isinstance(schema, dict):
        return schema
    unranked = len(_KEYWORD_ORDER)
    ordered = dict(sorted(schema.items(), key=lambda item: _KEYWORD_ORDER.get(item[0], unranked)))
    if "properties" in ordered:
        ordered["properties"] = {
            name: _in_class_validator_order(sub) for name, sub in ordered["properties"].items()
        }
    if "anyOf" in ordered:
        ordered["anyOf"] = [_in_class_validator_order(sub) for sub in ordered["anyOf"]]
    for keyword in ("items", "not"):
        if keyword in ordered:
            ordered[keyword] = _in_class_validator_order(ordered[keyword])
    return ordered


def _items(
    validator: Any, items: Any, instance: Any, schema: dict[str, Any]
) -> Iterator[ValidationError]:
    item_type = items.get("type") if isinstance(items, dict) else None
    if not isinstance(item_type, str) or item_type not in _SCALAR_TYPES:
        yield from Draft202012Validator.VALIDATORS["items"](validator, items, instance, schema)
        return
    # `each: true` validators check only the type, and answer once for the whole list.
    if validator.is_type(instance, "array") and not all(
        validator.is_type(item, item_type) for item in instance
    ):
        yield ValidationError(f"each value must be of type {item_type!r}")


def _required(
    validator: Any, required: list[str], instance: Any, schema: dict[str, Any]
) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    for name in required:
        if name not in instance:
            # Points at the missing member: class-validator's message names its path.
            yield ValidationError(f"{name!r} is a required property", path=[name])


_DtoValidator = validators.create(
    meta_schema=Draft202012Validator.META_SCHEMA,
    validators={**Draft202012Validator.VALIDATORS, "items": _items, "required": _required},
    type_checker=Draft202012Validator.TYPE_CHECKER,
    format_checker=Draft202012Validator.FORMAT_CHECKER,
    id_of=Draft202012Validator.ID_OF,
)


def _messages(errors: Iterable[ValidationError]) -> list[str]:
    messages: list[str] = []
    wrong_type: set[tuple[tuple[Any, ...], tuple[Any, ...]]] = set()
    for error in errors:
        node = (tuple(error.absolute_path), tuple(error.absolute_schema_path)[:-1])
        if error.validator == "type":
            wrong_type.add(node)
        elif error.instance is None or node in wrong_type:
            # class-validator stops at a wrong type, and null passes every other check.
            continue
        messages += _worded(error)
    return messages


def _worded(error: ValidationError) -> list[str]:
    path = ".".join(str(part) for part in error.absolute_path)
    keyword, expected = error.validator, error.validator_value
    if keyword == "type":
        names = [expected] if isinstance(expected, str) else list(expected)
        wanted = next((name for name in names if name != "null"), names[0])
        return [f"{path or 'body'} {_TYPE_MESSAGES[wanted]}"]
    if keyword == "enum":
        allowed = ", ".join(str(option) for option in expected)
        return [f"{path} must be one of the following values: {allowed}"]
    if keyword == "pattern":
        return [error.schema.get("x-message") or f"{path} must match the expected format"]
    if keyword == "minimum":
        return [f"{path} must not be less than {expected}"]
    if keyword == "maximum":
        return [f"{path} must not be greater than {expected}"]
    if keyword == "additionalProperties":
        declared = error.schema.get("properties", {})
        prefix = f"{path}." if path else ""
        return [
            f"{prefix}property {key} should not exist"
            for key in error.instance
            if key not in declared
        ]
    if keyword == "required":
        return [f"{path} should not be empty"]
    if keyword == "items":
        return [f"each value in {path} {_TYPE_MESSAGES[expected['type']]}"]
    if keyword == "anyOf":
        return _closest_branch(error)
    if keyword == "not":
        return [expected.get("x-message") or f"{path or 'body'} is not allowed"]
    return [f"{path or 'body'} {error.message}"]


def _closest_branch(error: ValidationError) -> list[str]:
    """The failures of the branch that came closest, as class-validator reports a union."""
    branches: list[list[ValidationError]] = [[] for _ in error.validator_value]
    for failure in error.context:
        branches[failure.relative_schema_path[0]].append(failure)
    worded = [_messages(branch) for branch in branches]
    if not all(worded):
        return []  # a branch fails only on what class-validator does not check
    return min(worded, key=len)
