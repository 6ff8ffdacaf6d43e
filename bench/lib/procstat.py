"""Resident memory and CPU time of a system's processes, from /proc.

Sampler polls a callable returning pids (Controller.pids) on its own thread and keeps the peak of
the summed VmRSS; cpu_seconds() and rss_kib() read the current values. Processes that exited
between two reads simply stop counting.
"""
from __future__ import annotations

import ctypes
import os
import signal
import threading
import time

_TICK = os.sysconf("SC_CLK_TCK")


def _status_kib(pid: int, key: str) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _cpu(pid: int) -> float:
    """utime + stime of pid in seconds (its own threads; children are separate pids)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            # comm may contain spaces: fields after the closing parenthesis.
            rest = f.read().rsplit(")", 1)[1].split()
        return (int(rest[11]) + int(rest[12])) / _TICK
    except (OSError, IndexError, ValueError):
        return 0.0


def rss_kib(pids: list[int]) -> int:
    return sum(_status_kib(p, "VmRSS:") for p in pids)


def hwm_kib(pids: list[int]) -> int:
    """Sum of each process's own peak resident set (VmHWM)."""
    return sum(_status_kib(p, "VmHWM:") for p in pids)


def cpu_seconds(pids: list[int]) -> float:
    return sum(_cpu(p) for p in pids)


class Sampler:
    """Peak summed VmRSS of pids_fn() every `period` seconds, from start() until stop()."""

    def __init__(self, pids_fn, period: float = 0.1):
        self._pids_fn = pids_fn
        self._period = period
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.peak_kib = 0

    def start(self) -> "Sampler":
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_kib = max(self.peak_kib, rss_kib(self._pids_fn()))
            self._stop.wait(self._period)

    def stop(self) -> int:
        self._stop.set()
        if self._thread:
            self._thread.join()
        return self.peak_kib


def wait_quiet(pids_fn, window: float = 1.0, threshold: float = 0.02, timeout: float = 120,
               min_wait: float = 0.5) -> float:
    """Waits until the processes use less than `threshold` CPU-seconds per `window` seconds;
    returns the elapsed time. For systems that do not report when a resync is handled."""
    start = time.monotonic()
    time.sleep(min_wait)
    last = cpu_seconds(pids_fn())
    while time.monotonic() - start < timeout:
        time.sleep(window)
        now = cpu_seconds(pids_fn())
        if now - last < threshold:
            return time.monotonic() - start
        last = now
    return time.monotonic() - start


def die_with_parent() -> None:
    """preexec_fn for a system's processes: SIGTERM when the driver dies, however it dies (a
    test harness's SIGKILL included), so no operator outlives its run."""
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
