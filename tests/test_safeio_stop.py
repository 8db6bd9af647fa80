"""A run asked to stop publishes nothing, even when the signal's exception was lost.

Python swallows an exception raised while a finaliser runs (libclang's objects have
``__del__``): a SIGTERM landing there left the run going on to write its output. The
signal handler also records the request, and the output writers ask before replacing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from headerparse import safeio
from headerparse.site import sphinxrun


@pytest.fixture
def stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(safeio, "_stop_signal", None)
    safeio.request_stop(15)


def test_no_request_writes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(safeio, "_stop_signal", None)
    safeio.write_output(tmp_path / "m.json", "{}")
    assert (tmp_path / "m.json").read_text() == "{}"


def test_a_stopped_run_writes_no_output(tmp_path: Path, stopped: None) -> None:
    (tmp_path / "m.json").write_text("old")
    with pytest.raises(safeio.Terminated) as exc:
        safeio.write_output(tmp_path / "m.json", "new")
    assert exc.value.signum == 15
    assert (tmp_path / "m.json").read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["m.json"]     # no temporary left


def test_a_stopped_build_publishes_nothing(tmp_path: Path, stopped: None) -> None:
    out = tmp_path / "out"
    new = out / ".versions" / "v2"
    new.mkdir(parents=True)
    with pytest.raises(safeio.Terminated):
        sphinxrun.publish(out, new)
    assert not (out / "html").exists()
    assert sorted(p.name for p in out.iterdir()) == [".versions"]
