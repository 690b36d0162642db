"""Code that more than one connector needs: HTTP retries, pacing, redaction, phones, writing."""
