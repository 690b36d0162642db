"""`python -m lead_relay`: the `lead-relay` command."""

from lead_relay.cli import main

main()
