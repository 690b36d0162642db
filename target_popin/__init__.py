"""target-popin: Singer target (see README)."""
