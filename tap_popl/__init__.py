"""tap-popl: Singer tap (see README)."""
