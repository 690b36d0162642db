"""GHL's official OpenAPI request schemas as JSON Schema, for validating what a client sends.

The specs (CC0, copied unchanged into ``../shared/ghl-openapi``) are OpenAPI 3.0. This module
resolves their ``$ref``s and turns each operation's request body into plain JSON Schema:

* ``nullable: true`` becomes a ``"null"`` member of ``type`` (the OpenAPI 3.0 spelling);
* GHL's DTO whitelist is made explicit: every object schema that declares ``properties`` gets
  ``additionalProperties: false``, nested objects included. The specs never say it, but the API
  answers an undeclared property with 422 "property X should not exist" (class-validator's
  ``forbidNonWhitelisted``);
* a short, named list of ``ERRATA`` corrects defects of the spec itself (a string field typed
  "object", an empty search DTO, ...) and tightens a few fields the docs describe only in
  prose. Each erratum records what the official spec says today, so a test notices when an
  upstream fix makes it stale.

The sandbox's GHL emulator validates with the same schemas (``sandbox/ghl_dtos.json``, made by
``python -m scripts.extract_ghl_dtos``), and a conformance test checks both agree.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

SPEC_FILES = ("apps/contacts.json", "apps/locations.json")

#: The operations a GHL client of this project uses: (method, path template as in the spec).
BODY_OPERATIONS = (
    ("POST", "/contacts/upsert"),
    ("POST", "/contacts/"),
    ("PUT", "/contacts/{contactId}"),
    ("POST", "/contacts/{contactId}/tags"),
    ("DELETE", "/contacts/{contactId}/tags"),
    ("POST", "/contacts/{contactId}/notes"),
    ("POST", "/contacts/{contactId}/tasks"),
    ("PUT", "/contacts/{contactId}/tasks/{taskId}/completed"),
    ("POST", "/contacts/search"),
    ("POST", "/contacts/bulk/tags/update/{type}"),
)
QUERY_OPERATIONS = (
    ("GET", "/contacts/search/duplicate"),
    ("GET", "/contacts/{contactId}"),
    ("GET", "/contacts/{contactId}/notes"),
    ("GET", "/contacts/{contactId}/tasks"),
    ("GET", "/contacts/{contactId}/appointments"),
    ("GET", "/contacts/business/{businessId}"),
    ("GET", "/locations/{locationId}/customFields"),
    ("DELETE", "/contacts/{contactId}"),
)

_ISO_DATE_TIME = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})$"
# The eight dateOfBirth formats the DTO description lists, one separator per value.
_BIRTH_DATE = r"^(\d{4}([/.\-_])\d{2}\2\d{2}|\d{2}([/.\-_])\d{2}\3\d{4})$"
_EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"

_CUSTOM_FIELD_ITEMS = (
    "TextField",
    "LargeTextField",
    "SingleSelectField",
    "RadioField",
    "NumericField",
    "MonetoryField",
    "CheckboxField",
    "MultiSelectField",
    "FileField",
)
_CONTACT_DTOS = ("UpsertContactDto", "CreateContactDto", "UpdateContactDto")

_SEARCH_BODY: dict[str, Any] = {
    "type": "object",
    "properties": {
        "locationId": {"type": "string"},
        "pageLimit": {"type": "integer", "minimum": 1, "maximum": 500},
        "page": {"type": "integer", "minimum": 1},
        "searchAfter": {"type": "array"},
        "filters": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "field": {"type": "string"},
                    "operator": {"type": "string"},
                    "value": {},
                },
                "required": ["field", "operator"],
            },
        },
        "sort": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "field": {"type": "string"},
                    "direction": {"type": "string", "enum": ["asc", "desc"]},
                },
                "required": ["field", "direction"],
            },
        },
    },
    "required": ["locationId", "pageLimit"],
    "not": {
        "required": ["page", "searchAfter"],
        "x-message": "page and searchAfter cannot be used together",
    },
}


@dataclass(frozen=True)
class Erratum:
    """One correction of the official spec: at `pointer` of `document`, `was` becomes `now`."""

    document: str
    pointer: str
    was: Any
    now: Any
    why: str


_MISSING = {"$absent": True}


def _errata() -> tuple[Erratum, ...]:
    fixes: list[Erratum] = []
    for dto in _CONTACT_DTOS:
        base = f"/components/schemas/{dto}/properties"
        fixes.append(
            Erratum(
                "apps/contacts.json",
                f"{base}/dateOfBirth/type",
                "object",
                "string",
                "typed object but documented (and exemplified) as a date string",
            )
        )
        fixes.append(
            Erratum(
                "apps/contacts.json",
                f"{base}/dateOfBirth/pattern",
                _MISSING,
                _BIRTH_DATE,
                "the description lists the accepted date formats",
            )
        )
        fixes.append(
            Erratum(
                "apps/contacts.json",
                f"{base}/email/pattern",
                _MISSING,
                _EMAIL,
                "tightening: the API refuses a malformed email ('email must be an email')",
            )
        )
        fixes.append(
            Erratum(
                "apps/contacts.json",
                f"{base}/email/x-message",
                _MISSING,
                "email must be an email",
                "class-validator's message for the email check",
            )
        )
    for number_field in ("NumericField", "MonetoryField"):
        fixes.append(
            Erratum(
                "apps/contacts.json",
                f"/components/schemas/{number_field}/properties/field_value/type",
                "object",
                "number",
                "typed object but the example and the dataType are numbers",
            )
        )
    for item in _CUSTOM_FIELD_ITEMS:
        fixes.append(
            Erratum(
                "apps/contacts.json",
                f"/components/schemas/{item}/required",
                ["id"],
                [],
                "the spec itself says 'Pass either `id` or `key` of custom field'",
            )
        )
        fixes.append(
            Erratum(
                "apps/contacts.json",
                f"/components/schemas/{item}/anyOf",
                _MISSING,
                [{"required": ["id"]}, {"required": ["key"]}],
                "either id or key identifies the custom field",
            )
        )
    fixes.append(
        Erratum(
            "apps/contacts.json",
            "/components/schemas/SearchBodyV2DTO",
            {"type": "object", "properties": {}},
            _SEARCH_BODY,
            "the search DTO is empty in the spec; fields from the endpoint's documentation",
        )
    )
    for dto in ("CreateTaskParams", "UpdateTaskBody"):
        fixes.append(
            Erratum(
                "apps/contacts.json",
                f"/components/schemas/{dto}/properties/dueDate/pattern",
                _MISSING,
                _ISO_DATE_TIME,
                "tightening: dueDate is an ISO 8601 date-time",
            )
        )
    return tuple(fixes)


ERRATA = _errata()


def _pointer_parts(pointer: str) -> list[str]:
    return [part.replace("~1", "/").replace("~0", "~") for part in pointer.strip("/").split("/")]


def pointer_get(document: Any, pointer: str) -> Any:
    """The value at a JSON pointer, or `_MISSING`."""
    node = document
    for part in _pointer_parts(pointer):
        if not isinstance(node, dict) or part not in node:
            return _MISSING
        node = node[part]
    return node


def _pointer_set(document: Any, pointer: str, value: Any) -> None:
    *parents, last = _pointer_parts(pointer)
    node = document
    for part in parents:
        node = node[part]
    node[last] = copy.deepcopy(value)


@lru_cache(maxsize=8)
def _official(spec_root: Path) -> dict[str, Any]:
    return {
        name: json.loads((spec_root / name).read_text(encoding="utf-8"))
        for name in (*SPEC_FILES, "common/common-schemas.json")
    }


@lru_cache(maxsize=8)
def _documents(shared_dir: Path, corrected: bool) -> dict[str, Any]:
    """The spec files, errata applied or not; shared, so callers must not mutate them."""
    documents = copy.deepcopy(_official(Path(shared_dir) / "ghl-openapi"))
    if corrected:
        for fix in ERRATA:
            _pointer_set(documents[fix.document], fix.pointer, fix.now)
    return documents


def _resolve(node: Any, document: str, documents: dict[str, Any], depth: int = 0) -> Any:
    if depth > 50:
        raise ValueError("$ref nesting too deep (a cycle?)")
    if isinstance(node, list):
        return [_resolve(item, document, documents, depth) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        target_file, _, pointer = node["$ref"].partition("#")
        target_doc = document
        if target_file:
            target_doc = str(Path(document).parent.joinpath(target_file))
            target_doc = re.sub(r"[^/]+/\.\./", "", target_doc)
        target = pointer_get(documents[target_doc], pointer)
        if target is _MISSING:
            raise KeyError(node["$ref"])
        return _resolve(target, target_doc, documents, depth + 1)
    return {key: _resolve(value, document, documents, depth) for key, value in node.items()}


def _operation(documents: dict[str, Any], method: str, path: str) -> tuple[str, dict[str, Any]]:
    template = match_template(documents, method, path)
    for name in SPEC_FILES:
        operation = documents[name]["paths"].get(template, {}).get(method.lower())
        if operation is not None:
            return name, operation
    raise KeyError(f"{method} {path} is not an operation of the GHL specs")


def match_template(documents: dict[str, Any], method: str, path: str) -> str:
    """The spec's path template for a concrete path (`/contacts/abc/tags`), literal first."""
    candidates = []
    for name in SPEC_FILES:
        for template, operations in documents[name]["paths"].items():
            if method.lower() not in operations:
                continue
            if template == path:
                return template
            regex = "^" + re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(template)) + "$"
            if re.match(regex, path) or re.match(regex, path + "/"):
                literal = sum(1 for part in template.split("/") if not part.startswith("{"))
                candidates.append((literal, template))
    if not candidates:
        raise KeyError(f"{method} {path} is not an operation of the GHL specs")
    return max(candidates)[1]


def _to_json_schema(node: Any) -> Any:
    """OpenAPI 3.0 schema dialect -> JSON Schema, with the whitelist made explicit."""
    if isinstance(node, list):
        return [_to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    result = {
        key: _to_json_schema(value)
        for key, value in node.items()
        if key not in {"example", "examples", "description", "nullable", "default"}
    }
    if node.get("nullable") and isinstance(result.get("type"), str):
        result["type"] = [result["type"], "null"]
    if "properties" in result and "additionalProperties" not in result:
        result["additionalProperties"] = False
    if result.get("required") == []:
        del result["required"]
    return result


def _body_schema(shared_dir: Path, method: str, path: str, corrected: bool) -> dict[str, Any]:
    documents = _documents(shared_dir, corrected)
    name, operation = _operation(documents, method, path)
    content = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if content is None:
        raise KeyError(f"{method} {path} takes no JSON request body")
    return dict(_resolve(content["schema"], name, documents))


def official_request_schema(shared_dir: Path, method: str, path: str) -> dict[str, Any]:
    """The request body schema exactly as the official spec has it ($refs resolved, OpenAPI)."""
    return _body_schema(shared_dir, method, path, corrected=False)


def official_json_schema(shared_dir: Path, method: str, path: str) -> dict[str, Any]:
    """The official body schema in JSON Schema dialect with the whitelist, but no errata."""
    return dict(_to_json_schema(_body_schema(shared_dir, method, path, corrected=False)))


def request_schema(shared_dir: Path, method: str, path: str) -> dict[str, Any]:
    """The JSON Schema of what GHL accepts as this operation's body (errata, whitelist)."""
    return dict(_to_json_schema(_body_schema(shared_dir, method, path, corrected=True)))


def query_schema(shared_dir: Path, method: str, path: str) -> dict[str, Any]:
    """JSON Schema of the operation's query string (declared parameters only, all strings)."""
    documents = _documents(shared_dir, corrected=True)
    name, operation = _operation(documents, method, path)
    properties: dict[str, Any] = {}
    required = []
    for parameter in _resolve(operation.get("parameters", []), name, documents):
        if parameter.get("in") != "query":
            continue
        properties[parameter["name"]] = _to_json_schema(parameter.get("schema", {}))
        if parameter.get("required"):
            required.append(parameter["name"])
    schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
    }
    if required:
        schema["required"] = required
    return schema


def api_versions(shared_dir: Path, method: str, path: str) -> list[str]:
    """The values the operation's required `Version` header may take."""
    documents = _documents(shared_dir, corrected=True)
    name, operation = _operation(documents, method, path)
    for parameter in _resolve(operation.get("parameters", []), name, documents):
        if parameter.get("in") == "header" and parameter.get("name") == "Version":
            return list(parameter["schema"]["enum"])
    return []


def operation_id(shared_dir: Path, method: str, path: str) -> str:
    """The spec's operationId (e.g. `upsert-contact`)."""
    _, operation = _operation(_documents(shared_dir, corrected=False), method, path)
    return str(operation["operationId"])


@lru_cache(maxsize=64)
def _validator(shared_dir: Path, method: str, path: str) -> Draft202012Validator:
    return Draft202012Validator(request_schema(shared_dir, method, path))


def validate_request(shared_dir: Path, method: str, path: str, body: Any) -> list[str]:
    """Why `body` is not an acceptable request body for the operation (empty when it is).

    `path` may be the spec's template or a concrete path such as `/contacts/abc/tags`.
    """
    validator = _validator(Path(shared_dir), method, path)
    return sorted(
        f"{'/'.join(str(part) for part in error.absolute_path) or '<body>'}: {error.message}"
        for error in validator.iter_errors(body)
    )
