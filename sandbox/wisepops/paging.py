"""GET /contacts: `collected_after`, `wisepop_id` and `page`/`page_size` over the contacts
sorted by collection time."""

from __future__ import annotations

import bisect
from typing import Any

from starlette.requests import Request

from sandbox.wisepops.contacts import parse_utc, sort_key
from sandbox.wisepops.errors import WisepopsError, int_param
from sandbox.wisepops.paging_faults import PagingFaults

MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 100


class ContactPaging(PagingFaults):
    """The contacts endpoint (a mixin of `WisepopsApi`)."""

    _snapshots: dict[tuple[str | None, str | None], list[dict[str, Any]]]

    async def _contacts(self, request: Request) -> list[dict[str, Any]]:
        """GET /contacts: one page, oldest first, ties in stored order."""
        query = request.query_params
        page_size = int_param(query.get("page_size"), "page_size", DEFAULT_PAGE_SIZE)
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise WisepopsError(400, f"page_size must be between 1 and {MAX_PAGE_SIZE}")
        page = int_param(query.get("page"), "page", 1)
        if page < 1:
            raise WisepopsError(400, "page must be 1 or more")
        first = 0
        bound = None
        after = query.get("collected_after")
        if after is not None:
            try:
                bound = sort_key(parse_utc(after))
            except ValueError:
                raise WisepopsError(
                    400, "collected_after must be a UTC ISO-8601 date-time"
                ) from None
            if self.settings["collected_after_mode"] == "strict":
                first = bisect.bisect_right(self._keys, bound)
            else:
                first = bisect.bisect_left(self._keys, bound)
        contacts: list[dict[str, Any]] = self.store["contacts"]
        wisepop = query.get("wisepop_id")
        if wisepop is None:
            matching = contacts[first:]
        else:
            popup_id = int_param(wisepop, "wisepop_id", 0)
            if all(p["id"] != popup_id for p in self.store["wisepops"]):
                raise WisepopsError(404, "Wisepop not found")
            matching = [c for c in contacts[first:] if c["wisepop_id"] == popup_id]
        if self.settings["page_snapshots"]:
            if page == 1:
                self._snapshots[bound, wisepop] = matching
            else:
                matching = self._snapshots.get((bound, wisepop), matching)
        offset = (page - 1) * page_size
        served = [self._shown(c) for c in matching[offset : offset + page_size]]
        self._served_contacts_request()
        return served
