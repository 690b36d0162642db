"""Machinery every API-writing target shares: client, pacing, rejects, ledger, summary, sink."""

from leadkit.writer.client import AmbiguousWrite, ApiClient, ApiUnavailable
from leadkit.writer.ledger import Ledger
from leadkit.writer.outcome import Reject
from leadkit.writer.rejects import RejectFile
from leadkit.writer.settings import writer_properties
from leadkit.writer.sink import ApiBatchSink
from leadkit.writer.summary import RunSummary
from leadkit.writer.target import ApiTarget, WriterRun

__all__ = [
    "AmbiguousWrite",
    "ApiBatchSink",
    "ApiClient",
    "ApiTarget",
    "ApiUnavailable",
    "Ledger",
    "Reject",
    "RejectFile",
    "RunSummary",
    "WriterRun",
    "writer_properties",
]
