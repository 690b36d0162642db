"""tap-popin: Popin call events, read from the relay's spool."""
