"""`lead-relay serve --port P --spool PATH --source NAME=KIND:ENV_VAR ...`"""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
from collections.abc import Mapping, Sequence

import uvicorn

from lead_relay.app import DEFAULT_MAX_BODY_BYTES, Source, build_app, known_kind
from leadkit.spool import SpoolError, open_spool

_SOURCE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9_.-]*)=([a-z0-9_]+)(?::([A-Za-z_][A-Za-z0-9_]*))?$")


def parse_source(text: str, environ: Mapping[str, str]) -> Source:
    """`NAME=KIND:ENV_VAR` -> a Source whose secret is read from the variable `ENV_VAR`."""
    match = _SOURCE.match(text)
    if match is None:
        raise ValueError(
            f"--source {text!r} must look like NAME=KIND:ENV_VAR (e.g. shop=wisepops:SHOP_KEY)"
        )
    name, kind_name, variable = match.groups()
    kind = known_kind(kind_name)
    secret = environ.get(variable) if variable else None
    if getattr(kind, "secret_required", False) and not secret:
        where = f"the environment variable {variable}" if variable else "NAME=KIND:ENV_VAR"
        raise ValueError(f"--source {name}: {kind_name} deliveries are signed; set {where}")
    return Source(name, kind, secret or None)


def parser() -> argparse.ArgumentParser:
    """The command line."""
    cli = argparse.ArgumentParser(prog="lead-relay", description=__doc__)
    commands = cli.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="receive webhooks into the spool")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument(
        "--spool", required=True, help="a file path, sqlite:///path or postgresql://"
    )
    serve.add_argument(
        "--source",
        action="append",
        required=True,
        metavar="NAME=KIND:ENV_VAR",
        help="accept POST /hooks/KIND/NAME, checked with the secret in ENV_VAR (repeatable)",
    )
    serve.add_argument("--max-body-bytes", type=int, default=DEFAULT_MAX_BODY_BYTES)
    serve.add_argument("--log-level", default="info", choices=["debug", "info", "warning"])
    return cli


def main(argv: Sequence[str] | None = None) -> None:
    """The `lead-relay` console script."""
    args = parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    try:
        sources = [parse_source(text, os.environ) for text in args.source]
        names = [(s.kind.name, s.name) for s in sources]
        if len(set(names)) != len(names):
            raise ValueError("each --source NAME may be given once per kind")
        spool = open_spool(args.spool)
    except (ValueError, SpoolError) as error:
        sys.exit(f"lead-relay: {error}")
    app = build_app(spool, sources, max_body_bytes=args.max_body_bytes)
    # No access log: our own line per delivery says what matters, without client details.
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, access_log=False)


if __name__ == "__main__":
    main()
