"""Running uvicorn servers in this process: one, or several side by side (the all-in-one serves the API and
the web UI), stopped together by one Ctrl-C or SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable, Generator, Sequence
from types import FrameType

import uvicorn

GRACE_SECONDS = 20


class _SharedSignalsServer(uvicorn.Server):
    """A server that leaves signal handling to `serve`: uvicorn's own would let the last server started
    take Ctrl-C from the others."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def serve(configs: Sequence[uvicorn.Config], *, on_exit: Sequence[Callable[[], None]] = ()) -> None:
    """Serve until a signal: then run `on_exit` (ending live streams, which would otherwise hold the
    shutdown) and let every server finish its requests."""
    servers = [_SharedSignalsServer(config) for config in configs]
    for config in configs:
        config.timeout_graceful_shutdown = GRACE_SECONDS

    def handle(sig: int, frame: FrameType | None) -> None:
        for hook in on_exit:
            hook()
        for server in servers:
            server.handle_exit(sig, frame)

    async def main() -> None:
        previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            await asyncio.gather(*(server.serve() for server in servers))
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    # uvicorn.run would pick the event loop (uvloop where installed); serving several servers ourselves,
    # we ask the config for the same choice
    with asyncio.Runner(loop_factory=configs[0].get_loop_factory()) as runner:
        runner.run(main())
