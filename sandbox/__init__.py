"""Local emulators of the Popl, Wisepops, GHL and Popin APIs, served by one process."""
