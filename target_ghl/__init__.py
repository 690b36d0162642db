"""target-ghl: a Singer target writing contacts, tags, notes and tasks into HighLevel."""
