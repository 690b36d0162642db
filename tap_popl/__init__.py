"""tap-popl: Singer tap for event leads from the Popl Open API v2."""
