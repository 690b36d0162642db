"""How many times a day a cron schedule can fire at most (for the vendors' daily budgets)."""

from __future__ import annotations

#: Dagster's cron aliases.
ALIASES = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}


def _values(field: str, low: int, high: int) -> set[int]:
    """The values a cron field (`*`, `a`, `a-b`, `*/n`, `a-b/n`, lists of these) matches."""
    found: set[int] = set()
    for part in field.split(","):
        span, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if span == "*":
            start, end = low, high
        elif "-" in span:
            start_text, end_text = span.split("-", 1)
            start, end = int(start_text), int(end_text)
        else:
            start = int(span)
            end = high if step_text else start
        if step < 1 or not low <= start <= end <= high:
            raise ValueError(f"cron field {field!r} is out of range {low}-{high}")
        found.update(range(start, end + 1, step))
    return found


def max_runs_per_day(cron: str) -> int:
    """Runs on the busiest day: minutes times hours (day fields only pick which days)."""
    fields = ALIASES.get(cron.strip(), cron).split()
    if len(fields) != 5:
        raise ValueError(f"{cron!r} is not a cron expression of five fields")
    try:
        return len(_values(fields[0], 0, 59)) * len(_values(fields[1], 0, 23))
    except ValueError as exc:
        raise ValueError(f"{cron!r}: {exc}") from None
