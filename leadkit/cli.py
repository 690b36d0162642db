"""The connectors' console scripts: the SDK's CLI, ending with one clear line and the
right exit code for a stop it understands."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
import typing as t

import click
from singer_sdk.exceptions import FatalAPIError

from leadkit import configuration
from leadkit.errors import InputError
from leadkit.logs import quiet_sdk_chatter
from leadkit.stopping import Stopped, signal_name

if t.TYPE_CHECKING:
    from singer_sdk.plugin_base import PluginBase

#: Failures whose message says everything; their traceback is only shown at DEBUG.
KNOWN_STOPS: tuple[type[BaseException], ...] = (FatalAPIError, InputError)


def run(plugin: type[PluginBase], args: list[str] | None = None) -> t.NoReturn:
    """Run `plugin`'s CLI and exit: 0, 1 for a failure, or 128 + N after signal N."""
    logger = logging.getLogger(plugin.name)
    command = plugin.cli  # sets up the SDK's console logging
    quiet_sdk_chatter(plugin.name)
    started = time.monotonic()
    try:
        # Without standalone mode click returns, rather than raises, `ctx.exit(code)`.
        returned = command.main(args=args, standalone_mode=False)
    except Stopped as stop:
        if not stop.reported:
            logger.warning(
                "Stopped by %s: every STATE written covers only records written before it",
                signal_name(stop.signum),
            )
        # Worker threads may still wait on a request the grace period gave up on: their
        # outcome is in doubt either way (the ledger knows), so do not wait for them.
        _leave(stop.exit_code)
    except click.exceptions.Exit as done:
        sys.exit(done.exit_code)
    except click.ClickException as usage:
        usage.show()
        sys.exit(usage.exit_code)
    except click.Abort:
        _leave(130)
    except KNOWN_STOPS as known:
        debug = logger.isEnabledFor(logging.DEBUG)
        logger.error("Run stopped: %s", known, exc_info=known if debug else None)
        _leave(1)
    except Exception as failure:
        logger.error("Run failed: %s", type(failure).__name__, exc_info=failure)
        _leave(1)
    code = returned if isinstance(returned, int) else 0
    if code:
        reasons = "; ".join(configuration.refused) or "see the lines above"
        logger.error("Run stopped: settings refused: %s", reasons)
    elif _is_a_run(args):
        logger.info("Run succeeded in %.1f s", time.monotonic() - started)
    sys.exit(code)


def _is_a_run(args: list[str] | None) -> bool:
    """False for `--about`, `--version`, `--help` and `--discover`, which run nothing."""
    given = sys.argv[1:] if args is None else args
    return not {"--about", "--version", "--help", "--discover"} & set(given)


def _leave(code: int) -> t.NoReturn:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    logging.shutdown()
    os._exit(code)
