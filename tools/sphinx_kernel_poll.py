"""Sphinx extension of the book build: a kernel's reply is never waited for past its arrival.

pyzmq's asyncio sockets wake on an edge-triggered file descriptor, and now and then the wake-up
is missed (zeromq/pyzmq#2173); the message then sits in the socket until the wait times out.
nbclient waits for each cell's reply with the cell's whole timeout (600 s, _config.yml), so a
missed wake-up stalled the build for ten minutes and then carried on (chapter 5 "executed in
624 s" on this machine, chapter 4 another time, with ipykernel 6 and 7 alike). Here every wait of
jupyter_client's asyncio channels is cut into short polls: each ends in a real zmq_poll, which
sees a waiting message, so a missed wake-up costs at most _SLICE_S. Timeouts keep their meaning.

Loaded through ``sphinx: local_extensions`` in _config.yml; it changes nothing else.
"""

from __future__ import annotations

import time
from queue import Empty

from jupyter_client.channels import AsyncZMQSocketChannel

_SLICE_S = 0.25
_get_msg = AsyncZMQSocketChannel.get_msg


async def _get_msg_in_slices(self, timeout: float | None = None):
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        left = _SLICE_S if deadline is None else max(0.0, deadline - time.monotonic())
        try:
            return await _get_msg(self, timeout=min(_SLICE_S, left))
        except Empty:
            if deadline is not None and time.monotonic() >= deadline:
                raise


def setup(app):
    AsyncZMQSocketChannel.get_msg = _get_msg_in_slices
    return {"parallel_read_safe": True, "parallel_write_safe": True}
