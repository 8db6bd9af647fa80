"""Forked workers report what went wrong in them, even when it does not pickle."""

from __future__ import annotations

import pytest

from headerparse.parallel import Streamer, WorkerFailed, alongside, fork_map


class Unpicklable(Exception):
    def __init__(self) -> None:
        super().__init__("holds a lambda")
        self.fn = lambda: None      # pickling the exception fails on this


def _fail(item: int) -> int:
    if item:
        raise Unpicklable()
    return item


def test_fork_map_returns_the_children_results_in_order():
    assert fork_map(lambda x: x * 2, [1, 2, 3]) == [2, 4, 6]


def test_fork_map_names_an_exception_that_does_not_pickle():
    with pytest.raises(WorkerFailed, match="worker 1 failed: RuntimeError: Unpicklable: "
                                           "holds a lambda"):
        fork_map(_fail, [0, 1])


def test_streamer_sends_each_message_then_ends():
    def work(send):
        for n in range(3):
            send(n)

    with Streamer(work) as s:
        assert [s.next(), s.next(), s.next(), s.next()] == [0, 1, 2, None]


def test_streamer_names_an_exception_that_does_not_pickle():
    def work(send):
        send("first")
        raise Unpicklable()

    with Streamer(work) as s:
        assert s.next() == "first"
        with pytest.raises(WorkerFailed, match="worker failed: RuntimeError: Unpicklable: "
                                               "holds a lambda"):
            s.next()


def test_a_process_the_streamers_child_forks_sends_through_its_pipe():
    import os

    def work(send) -> None:
        pid = send.fork(lambda: send(("forked", os.getpid())))
        send(("child", os.getpid()))
        os.waitpid(pid, 0)

    with Streamer(work) as child:
        got = [child.next(), child.next()]
        assert child.next() is None
    assert sorted(kind for kind, _ in got) == ["child", "forked"]
    assert len({pid for _, pid in got}) == 2


def test_a_forked_senders_exception_is_the_streamers_failure():
    import os

    def work(send) -> None:
        def boom() -> None:
            raise ValueError("in the forked one")
        os.waitpid(send.fork(boom), 0)

    with Streamer(work) as child, pytest.raises(WorkerFailed, match="in the forked one"):
        child.next()


def test_alongside_gives_the_threads_result_when_waited_for():
    import threading

    started = threading.Event()
    go = threading.Event()

    def work() -> str:
        started.set()
        go.wait(5)      # still running here while this thread goes on
        return threading.current_thread().name

    wait = alongside(work)
    assert started.wait(5)
    go.set()
    assert wait() == "headerparse-alongside"


def test_alongside_raises_the_threads_exception_when_waited_for():
    wait = alongside(lambda: _fail(1))
    with pytest.raises(Unpicklable):
        wait()
