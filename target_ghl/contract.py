"""The input contract and the UpsertContactDto whitelist it is checked against."""

from __future__ import annotations

#: Every property GHL's UpsertContactDto declares (apps/contacts.json). A body field outside
#: this set is answered 422 "property X should not exist"; a test compares it with the spec.
UPSERT_CONTACT_FIELDS = frozenset(
    {
        "address1",
        "assignedTo",
        "city",
        "companyName",
        "country",
        "createNewIfDuplicateAllowed",
        "customFields",
        "dateOfBirth",
        "dnd",
        "dndSettings",
        "email",
        "firstName",
        "gender",
        "inboundDndSettings",
        "lastName",
        "locationId",
        "name",
        "phone",
        "postalCode",
        "source",
        "state",
        "tags",
        "timezone",
        "website",
    }
)

#: Plain text properties of the input contract, copied (trimmed) into the upsert body.
TEXT_FIELDS = (
    "firstName",
    "lastName",
    "name",
    "companyName",
    "address1",
    "city",
    "state",
    "postalCode",
    "website",
    "timezone",
    "source",
)

#: Everything a record may carry; other properties are ignored and named in the summary.
CONTRACT_FIELDS = frozenset(
    {*TEXT_FIELDS, "email", "phone", "country", "dateOfBirth", "tags", "customFields"}
    | {"notes", "tasks"}
)
