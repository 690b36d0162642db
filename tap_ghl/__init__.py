"""tap-ghl: HighLevel contacts, notes, tasks and appointments (see docs/tap-ghl.md)."""
