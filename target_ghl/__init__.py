"""target-ghl: Singer target (see README)."""
