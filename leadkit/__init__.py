"""Code that more than one connector needs: HTTP retries, pacing, redaction, phones, writing."""

#: The distribution every connector ships in (its version is theirs).
DISTRIBUTION = "lead-connectors"
