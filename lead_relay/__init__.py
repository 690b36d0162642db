"""lead-relay: receives vendor webhooks and stores them in a durable spool the taps read."""
