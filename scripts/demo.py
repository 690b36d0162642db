"""`make demo`: start the sandbox, show each API answering, stop it."""

from __future__ import annotations

import requests

from sandbox.control import running_sandbox


def main() -> None:
    """Probe each emulated API once."""
    with running_sandbox() as sandbox:
        print(f"sandbox up at {sandbox.base_url}")
        for api in ("popl", "wisepops", "ghl", "popin"):
            response = requests.get(sandbox.api_url(api), timeout=5)
            print(f"  {api:<9} {sandbox.api_url(api):<45} HTTP {response.status_code}")
    print("sandbox stopped")


if __name__ == "__main__":
    main()
