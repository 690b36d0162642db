"""The targets' input reader: a bad line becomes a reject, a stop request is noticed between
lines, and no line is ever echoed to a log or an exception."""

from __future__ import annotations

import queue
import re
import sys
import threading
import typing as t

from singer_sdk.io_base import SingerMessageType
from singer_sdk.singerlib.encoding import SimpleSingerReader
from singer_sdk.singerlib.json import deserialize_json
from typing_extensions import override

from leadkit.errors import InputError

if t.TYPE_CHECKING:
    from leadkit.stopping import StopRequest
    from leadkit.writer.acks import Acknowledgements

#: Deeper records are refused: the SDK and the mappers copy and walk records recursively.
MAX_DEPTH = 100
#: Lines read ahead of the writer; bounded so a fast tap cannot fill the memory.
READ_AHEAD = 10_000
#: How often a reader waiting for input looks for a stop request.
POLL_SECONDS = 0.2
_STREAM = re.compile(rb'"stream"\s*:\s*"((?:[^"\\]|\\.){1,200})"')
_EOF = object()

NOT_JSON = "line is not valid JSON (cut off?)"
NOT_UTF8 = "text is not valid UTF-8"
NOT_OBJECT = "record is not a JSON object"
TOO_DEEP = f"record is nested deeper than {MAX_DEPTH} levels"
NOT_MESSAGE = "line is not a Singer message"


class InputHost(t.Protocol):
    """What the reader needs from its target."""

    stop_request: StopRequest

    @property
    def acks(self) -> Acknowledgements:
        """Input positions of records and STATE messages."""

    def reject_input(self, stream: str, reason: str, record: dict[str, t.Any]) -> None:
        """Send what could not become a record to the reject file."""

    def end_early(self, error: BaseException) -> None:
        """The input will not be read to its end."""

    def idle(self) -> None:
        """No line came for `POLL_SECONDS`: write what waited long enough."""


class SafeSingerReader(SimpleSingerReader):
    """Reads Singer messages as bytes on a feeder thread; the main thread handles them."""

    host: InputHost | None = None

    @override
    def process_lines(
        self,
        file_input: t.IO[t.Any] | None,
        callbacks: dict[str, t.Callable[[dict], None]],
    ) -> t.Counter[str]:
        """Handle each line; raise Stopped between lines once a stop is asked for."""
        if self.host is None:
            raise RuntimeError("SafeSingerReader needs its host target")
        try:
            return self._read_all(self.host, file_input, callbacks)
        except BaseException as exc:
            self.host.end_early(exc)
            raise

    def _read_all(
        self,
        host: InputHost,
        file_input: t.IO[t.Any] | None,
        callbacks: dict[str, t.Callable[[dict], None]],
    ) -> t.Counter[str]:
        source = file_input if file_input is not None else sys.stdin
        lines: queue.Queue[object] = queue.Queue(maxsize=READ_AHEAD)
        threading.Thread(target=_feed, args=(source, lines), name="input", daemon=True).start()
        stats: t.Counter[str] = t.Counter()
        while True:
            try:
                item = lines.get(timeout=POLL_SECONDS)
            except queue.Empty:
                host.stop_request.check()
                host.idle()
                continue
            host.stop_request.check()
            if item is _EOF:
                return stats
            if isinstance(item, BaseException):
                raise item
            kind = self._handle(t.cast("bytes", item), callbacks)
            if kind:
                stats[kind] += 1

    def _handle(self, raw: bytes, callbacks: dict[str, t.Callable[[dict], None]]) -> str | None:
        host = t.cast("InputHost", self.host)
        if not raw.strip():
            return None
        valid_text = True
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            valid_text = False
            text = raw.decode("utf-8", errors="surrogateescape")
        try:
            message = deserialize_json(text)
        except (ValueError, RecursionError) as exc:
            reason = TOO_DEEP if isinstance(exc, RecursionError) else NOT_JSON
            host.acks.record_read()
            host.reject_input(_stream_of(raw), reason, {"line": text})
            return SingerMessageType.RECORD
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            host.reject_input(_stream_of(raw), NOT_MESSAGE, {"line": text})
            return None
        kind = message["type"]
        if kind == SingerMessageType.RECORD and not valid_text:
            host.acks.record_read()
            line = raw.decode("utf-8", errors="backslashreplace")
            host.reject_input(_stream_of(raw), NOT_UTF8, {"line": line})
        elif kind == SingerMessageType.RECORD:
            self._record(message, callbacks[kind])
        elif kind == SingerMessageType.SCHEMA:
            _check_schema(message, valid_text)
            callbacks[kind](message)
        elif kind in callbacks:
            callbacks[kind](message)
            if kind == SingerMessageType.STATE and isinstance(message.get("value"), dict):
                host.acks.state_read(message["value"])
        else:
            # Newer Singer message kinds are skipped, not fatal: nothing here depends on them.
            return None
        return str(kind)

    def _record(self, message: dict[str, t.Any], callback: t.Callable[[dict], None]) -> None:
        host = t.cast("InputHost", self.host)
        host.acks.record_read()
        stream = str(message.get("stream") or "unknown")
        record = message.get("record")
        if not isinstance(record, dict):
            host.reject_input(stream, NOT_OBJECT, {"record": record})
            return
        if _depth(record) > MAX_DEPTH:
            host.reject_input(stream, TOO_DEEP, {"line": "(too deep to keep)"})
            return
        callback(message)


def _feed(source: t.IO[t.Any], lines: queue.Queue[object]) -> None:
    """Put every line of `source` (as bytes) on the queue, then an end marker."""
    stream = getattr(source, "buffer", source)
    try:
        for line in stream:
            lines.put(line if isinstance(line, bytes) else str(line).encode("utf-8"))
    except BaseException as exc:  # handed to the main thread, which decides
        lines.put(InputError(f"reading the input failed: {type(exc).__name__}"))
        return
    lines.put(_EOF)


def _stream_of(raw: bytes) -> str:
    match = _STREAM.search(raw)
    return match.group(1).decode("utf-8", errors="replace") if match else "unknown"


def _depth(value: object) -> int:
    """Nesting depth of a JSON value, without recursion."""
    deepest = 0
    pending: list[tuple[object, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if depth > deepest:
            deepest = depth
            if deepest > MAX_DEPTH:
                return deepest
        if isinstance(item, dict):
            pending.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            pending.extend((child, depth + 1) for child in item)
    return deepest


def _check_schema(message: dict[str, t.Any], valid_text: bool) -> None:
    """A SCHEMA the target cannot use stops the run with one line naming the stream."""
    from jsonschema import SchemaError
    from jsonschema.validators import validator_for

    stream = message.get("stream")
    schema = message.get("schema")
    problem = None
    if not isinstance(stream, str) or not stream:
        problem = "has no stream name"
    elif not valid_text:
        problem = "is not valid UTF-8"
    elif not isinstance(schema, dict) or not isinstance(schema.get("properties"), dict):
        problem = "has no `properties` object"
    else:
        try:
            validator_for(schema).check_schema(schema)
        except SchemaError as exc:
            where = "/".join(str(part) for part in exc.path) or "the top level"
            problem = f"is not a valid JSON schema (at {where})"
    if problem is not None:
        raise InputError(f"The SCHEMA message for stream {stream!r} {problem}.")
