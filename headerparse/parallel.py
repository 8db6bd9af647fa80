"""The one way headerparse spreads work over cores: deal it, largest first, then fork.

Lexing headers, parsing arches and rendering pages each split into shares of
known rough cost. :func:`deal` gives each item, dearest first, to the share that
is cheapest so far; :func:`fork_map` runs the first share in this process and
every other one in a forked child, which inherits the loaded modules (and
closures, which could not be pickled) and sends back only its result through a
pipe. A bare fork is used rather than a process pool: a pool's feeder threads,
starved of the GIL by the work in this process, start its workers tens of
milliseconds late.

Children die with their parent (``PR_SET_PDEATHSIG`` where Linux offers it), and a
parent leaving :func:`fork_map` early (an exception, Ctrl-C) kills and reaps them,
so no run leaves workers behind.

Work that waits on the system rather than computes (writing files: the write and
the checksum release the GIL) goes to a thread instead, :func:`alongside`.
"""

from __future__ import annotations

import ctypes
import os
import pickle
import select
import signal
import threading
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


class WorkerFailed(Exception):
    """A forked worker died or raised; the message says which share and how, and
    ``error`` is the worker's exception when it raised one."""

    def __init__(self, message: str, error: BaseException | None = None) -> None:
        super().__init__(message)
        self.error = error


def can_fork() -> bool:
    return hasattr(os, "fork") and (os.cpu_count() or 1) >= 2


def deal(costs: Sequence[float], shares: int) -> list[list[int]]:
    """Indices of ``costs`` in ``shares`` groups: dearest first, to the lightest group."""
    groups: list[list[int]] = [[] for _ in range(max(shares, 1))]
    load = [0] * len(groups)
    for i in sorted(range(len(costs)), key=lambda i: -costs[i]):
        k = load.index(min(load))
        groups[k].append(i)
        load[k] += costs[i]
    return groups


def alongside(func: Callable[[], R]) -> Callable[[], R]:
    """Start ``func()`` in a thread; the function returned waits for it and gives its
    result, or raises its exception.  For work spent in system calls and C code that
    lets the GIL go (writing and checksumming megabytes), done while this thread does
    the same: on one core of two, the other idle, two writes take the time of one."""
    box: list = []

    def run() -> None:
        try:
            box.append((True, func()))
        except BaseException as exc:    # handed to whoever waits, as their own
            box.append((False, exc))

    thread = threading.Thread(target=run, name="headerparse-alongside", daemon=True)
    thread.start()

    def wait() -> R:
        thread.join()
        ok, value = box[0]
        if not ok:
            raise value
        return value
    return wait


def fork_map(func: Callable[[T], R], items: Sequence[T]) -> list[R]:
    """``[func(item) for item in items]``, items after the first in forked children.

    A child that raises or dies raises :class:`WorkerFailed` here (its ``error`` is
    the child's exception). This process's own exception propagates after the
    children are killed.
    """
    if len(items) < 2 or not hasattr(os, "fork"):
        return [func(item) for item in items]
    children: list[tuple[int, int]] = []       # (pid, read end of its pipe)
    try:
        for item in items[1:]:
            children.append(_spawn(func, item))
        mine = func(items[0])
        theirs = []
        for n in range(1, len(items)):
            pid, fd = children.pop(0)
            theirs.append(_collect(pid, fd, n))
    finally:
        for pid, fd in children:     # left early: take the workers down with us
            _kill(pid, fd)
    return [mine, *theirs]


def _spawn(func: Callable[[T], R], item: T) -> tuple[int, int]:
    read_fd, write_fd = os.pipe()
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:    # the child: work, send, and leave without running the parent's cleanup
        code = 1
        try:
            os.close(read_fd)
            die_with_parent(parent)
            try:
                payload: tuple[str, object] = ("ok", func(item))
            except Exception as exc:        # the parent raises it; nothing is printed here
                payload = ("error", exc)
            with os.fdopen(write_fd, "wb") as pipe:
                pipe.write(_dumps(payload))
            code = 0
        finally:
            os._exit(code)
    os.close(write_fd)
    return pid, read_fd


def _dumps(payload: tuple[str, object]) -> bytes:
    """A child's ``(kind, value)`` for its parent; a value that does not pickle (an
    exception, say) is sent as an error naming it."""
    try:
        return pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:
        value = payload[1]
        return pickle.dumps(("error", RuntimeError(f"{type(value).__name__}: {value}")))


def _collect(pid: int, fd: int, n: int) -> object:
    with os.fdopen(fd, "rb") as pipe:
        data = pipe.read()
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    try:
        kind, value = pickle.loads(data) if code == 0 else ("died", code)
    except Exception:       # a truncated result: the child died mid-write
        kind, value = "died", code
    if kind == "ok":
        return value
    if kind == "error" and isinstance(value, Exception):
        raise WorkerFailed(f"worker {n} failed: {type(value).__name__}: {value}", value)
    raise WorkerFailed(f"worker {n} died (exit status {value})")


def _kill(pid: int, fd: int) -> None:
    _kill_and_reap(pid)
    os.close(fd)


def _kill_and_reap(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass


_PR_SET_PDEATHSIG = 1


def die_with_parent(parent: int, sig: int = signal.SIGKILL) -> None:
    """Ask Linux to send ``sig`` to this child when its parent dies, however it dies."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, sig, 0, 0, 0)
    except (OSError, AttributeError):
        return      # not Linux: the parent's own clean-up still reaps its workers
    if os.getppid() != parent:      # the parent died before the request took effect
        os._exit(1)


class Claims:
    """Items ``0..n-1`` for processes forked after it to take, each by exactly one of them.

    A pipe holds one byte per item: a read of one byte is atomic, so two processes
    never take the same item, and whoever is free takes the next (items that cost
    alike, started at different times, end up where they finish first).
    """

    def __init__(self, n: int) -> None:
        if n > 255:
            raise ValueError("at most 255 items")
        self._read, write = os.pipe()
        os.write(write, bytes(range(n)))
        os.close(write)
        os.set_blocking(self._read, False)

    def take(self) -> int | None:
        if self._read < 0:
            return None
        try:
            got = os.read(self._read, 1)
        except BlockingIOError:      # none left (the write end is closed: also b"")
            return None
        return got[0] if got else None

    def close(self) -> None:
        if self._read >= 0:
            os.close(self._read)
            self._read = -1


class Send:
    """A :class:`Streamer` child's way to its parent: ``send(message)``, and
    :meth:`fail` for an exception.

    Each message is one write to the pipe: a process the child forks may send too,
    and its messages and the child's never mix, as long as each fits in PIPE_BUF
    (4 KB, where a pipe write is atomic): small ones (names, paths), not data.
    """

    def __init__(self, fd: int) -> None:
        self._fd = fd

    def __call__(self, message: object) -> None:
        self._frame(pickle.dumps(("ok", message), protocol=pickle.HIGHEST_PROTOCOL))

    def fail(self, exc: BaseException) -> None:
        self._frame(_dumps(("error", exc)))

    def fork(self, func: Callable[[], None]) -> int:
        """A process forked from this one, running ``func()`` and sending through this
        pipe; it dies with this process, and its exception is sent as one.  Its pid, for
        this process to wait for.  (A :class:`Streamer` makes its child so, and the
        child may make others.)"""
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                die_with_parent(parent)
                try:
                    func()
                    code = 0
                except Exception as exc:
                    self.fail(exc)
            finally:
                os._exit(code)
        return pid

    def _frame(self, blob: bytes) -> None:
        data = len(blob).to_bytes(8, "little") + blob
        while data:
            data = data[os.write(self._fd, data):]


class Streamer:
    """A forked child running ``func(send)``, whose every ``send(message)`` this
    process reads in turn (:meth:`next`), as soon as it is sent.

    An exception in the child is its last message and raises :class:`WorkerFailed`
    here, as does its death; :meth:`kill` (or leaving a ``with`` block) stops it.
    """

    def __init__(self, func: Callable[[Send], None]) -> None:
        read_fd, write_fd = os.pipe()
        send = Send(write_fd)

        def child() -> None:
            os.close(read_fd)
            func(send)

        self.pid: int | None = send.fork(child)
        os.close(write_fd)
        # Unbuffered, so that :meth:`ready` (a poll of the pipe) misses no message
        # already read into a buffer.
        self._pipe = os.fdopen(read_fd, "rb", buffering=0)

    def ready(self) -> bool:
        """Whether :meth:`next` would return without waiting for the child."""
        return self._pipe.closed or bool(select.select([self._pipe], [], [], 0)[0])

    def _read(self, n: int) -> bytes:
        parts, left = [], n
        while left and (part := self._pipe.read(left)):
            parts.append(part)
            left -= len(part)
        return b"".join(parts)

    def next(self) -> object | None:
        """The child's next message; None once it has finished (and been reaped)."""
        head = self._read(8)
        if len(head) < 8:
            self._reap()
            return None
        blob = self._read(int.from_bytes(head, "little"))
        try:
            kind, value = pickle.loads(blob)
        except Exception:       # a truncated message: the child died mid-write
            self.kill()
            raise WorkerFailed("worker died mid-message") from None
        if kind == "error" and isinstance(value, Exception):
            self.kill()
            raise WorkerFailed(f"worker failed: {type(value).__name__}: {value}", value)
        return value

    def _reap(self) -> None:
        pid, self.pid = self.pid, None
        self._pipe.close()
        if pid is None:
            return
        _, status = os.waitpid(pid, 0)
        code = os.waitstatus_to_exitcode(status)
        if code != 0:
            raise WorkerFailed(f"worker died (exit status {code})")

    def kill(self) -> None:
        """Stop the child (if it still runs) and reap it."""
        pid, self.pid = self.pid, None
        if pid is not None:
            _kill_and_reap(pid)
        self._pipe.close()

    def __enter__(self) -> Streamer:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.kill()
