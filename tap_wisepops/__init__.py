"""tap-wisepops: Singer tap (see README)."""
