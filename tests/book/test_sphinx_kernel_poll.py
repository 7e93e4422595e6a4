"""tools/sphinx_kernel_poll.py: a wait on a kernel channel is a series of short polls with the same deadline."""

import asyncio
import sys
import time
from pathlib import Path
from queue import Empty

import pytest

pytest.importorskip("jupyter_client")  # the book's toolchain (requirements.txt)
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))
import sphinx_kernel_poll  # noqa: E402


class _Channel:
    """A stand-in channel whose message is seen only by the poll that starts after ``ready_at``."""

    def __init__(self, ready_at: float):
        self.ready_at = ready_at
        self.timeouts = []

    async def get_msg(self, timeout=None):
        self.timeouts.append(timeout)
        start = time.monotonic()
        await asyncio.sleep(timeout)
        if start >= self.ready_at:
            return {"msg": "reply"}
        raise Empty


def _wait(channel, timeout, monkeypatch):
    monkeypatch.setattr(sphinx_kernel_poll, "_get_msg", type(channel).get_msg)
    return asyncio.run(sphinx_kernel_poll._get_msg_in_slices(channel, timeout=timeout))


def test_a_message_that_a_long_wait_would_miss_is_found_by_the_next_short_poll(monkeypatch):
    channel = _Channel(ready_at=time.monotonic() + 0.3)
    start = time.monotonic()
    assert _wait(channel, 600.0, monkeypatch) == {"msg": "reply"}
    assert time.monotonic() - start < 2.0  # not the 600 s of one long wait
    assert max(channel.timeouts) <= sphinx_kernel_poll._SLICE_S


def test_the_timeout_keeps_its_meaning(monkeypatch):
    channel = _Channel(ready_at=float("inf"))
    start = time.monotonic()
    with pytest.raises(Empty):
        _wait(channel, 0.6, monkeypatch)
    assert 0.6 <= time.monotonic() - start < 1.5


def test_no_timeout_waits_until_the_message_comes(monkeypatch):
    channel = _Channel(ready_at=time.monotonic() + 0.6)
    assert _wait(channel, None, monkeypatch) == {"msg": "reply"}
    assert len(channel.timeouts) >= 3
