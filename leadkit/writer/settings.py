"""Settings every API-writing target shares."""

from __future__ import annotations

from singer_sdk import typing as th


def writer_properties() -> list[th.Property]:
    """Concurrency cap, dry run, reject file and ledger location."""
    return [
        th.Property(
            "max_concurrency",
            th.IntegerType,
            default=16,
            description="Upper bound on requests in flight. Below it the pool sizes itself "
            "from the allowed rate and the observed latency.",
        ),
        th.Property(
            "dry_run",
            th.BooleanType,
            default=False,
            description="Validate, normalise and read, but send no write; the summary says "
            "what would have been written.",
        ),
        th.Property(
            "reject_file",
            th.StringType,
            description="Path of a JSON-lines file receiving every rejected record with its "
            "reason. Without it rejects are only counted and logged by key.",
        ),
        th.Property(
            "ledger_path",
            th.StringType,
            description="Path of the SQLite ledger of notes/tasks already posted, which makes "
            "re-runs idempotent. Without it the ledger lives in memory for one run.",
        ),
    ]
