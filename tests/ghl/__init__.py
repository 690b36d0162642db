"""target-ghl tests: the target writes into the sandbox GHL over HTTP."""
