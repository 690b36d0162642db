"""POST /leads/search: the caller's scope, a walk over the sorted index and the next cursor."""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from typing import Any

from starlette.requests import Request

from sandbox.popl.capture_times import presented
from sandbox.popl.cursors import CursorRules
from sandbox.popl.errors import PoplError
from sandbox.popl.index import LeadIndex
from sandbox.popl.leads import SUBTEAMS, TEAM_ID, Team, sort_key
from sandbox.popl.query import SearchQuery, past_the_window


class LeadSearch(CursorRules, LeadIndex):
    """The search endpoint over the index (a mixin of `PoplApi`)."""

    _team: Team

    def _search(self, request: Request, principal: dict[str, Any], body: Any) -> Any:
        query = SearchQuery.parse(body)
        members = self._scope_members(principal, query.filters)
        leads = self.store["leads"]
        ascending = query.ascending
        position, page_number = self._decode_cursor(query) if query.cursor else (None, 1)
        if ascending:
            index = self._first_index(query.start_key, position)
            indices: Iterator[int] = iter(range(index, len(leads)))
        else:
            index = self._last_index(query.end_key, position)
            indices = iter(range(index, -1, -1))
        page_size = int(self.settings["page_size"])
        page: list[dict[str, Any]] = []
        more = False
        for at in indices:
            lead = leads[at]
            if not query.in_time(lead, bool(self.settings["start_time_inclusive"])):
                if past_the_window(query, lead, ascending):
                    break
                continue
            if not query.matches(lead, members):
                continue
            if len(page) == page_size:
                more = True
                break
            page.append(lead)
        cursor = self._encode_cursor(query, sort_key(page[-1]), page_number + 1) if more else None
        return {"leads": [presented(lead, self.settings) for lead in page], "nextCursor": cursor}

    def _first_index(self, start_key: str | None, position: tuple[str, str] | None) -> int:
        index = bisect.bisect_left(self._keys, (start_key, "")) if start_key else 0
        if position is not None:
            index = max(index, bisect.bisect_right(self._keys, position))
        return index

    def _last_index(self, end_key: str | None, position: tuple[str, str] | None) -> int:
        index = len(self._keys) - 1
        if end_key:
            index = bisect.bisect_right(self._keys, (end_key, "\uffff")) - 1
        if position is not None:
            index = min(index, bisect.bisect_left(self._keys, position) - 1)
        return index

    def _scope_members(self, principal: dict[str, Any], filters: dict[str, Any]) -> set[int]:
        """Member ids whose leads the scope covers; 403 outside the caller's reach."""
        team = self._team
        if "teamId" in filters:
            if not principal["admin"]:
                raise PoplError(403, "Team-wide leads need a Full Team Admin API key")
            if filters["teamId"] != TEAM_ID:
                raise PoplError(403, "No access to this team")
            return set(team.by_id)
        if "subteamIds" in filters:
            if not principal["admin"]:
                raise PoplError(403, "Subteam leads need a Full Team Admin API key")
            known = {sid for sid, _ in SUBTEAMS}
            if not set(filters["subteamIds"]) <= known:
                raise PoplError(403, "No access to one of the subteams")
            return {m["memberId"] for m in team.members if m["subteamId"] in filters["subteamIds"]}
        wanted = set(filters["assignedMemberIds"])
        if not wanted <= set(team.by_id):
            raise PoplError(403, "No access to one of the members")
        if not principal["admin"] and wanted != {principal["memberId"]}:
            raise PoplError(403, "A member key sees only its own leads")
        return wanted
