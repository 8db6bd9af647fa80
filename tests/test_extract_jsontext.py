"""``extract --json`` encodes a big model's records in two processes: the text is
``model_json_text``'s, byte for byte, wherever the records are cut."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from support.extract_case import case_files, write_tree

from headerparse.cli import extract as cli_extract
from headerparse.extract.pipeline import Options, extract
from headerparse.model import model_json_text
from headerparse.tree import open_tree


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory):
    files = {**case_files("layout_traps"), **case_files("macros")}
    root = write_tree(tmp_path_factory.mktemp("t"), files)
    return extract(open_tree(str(root)), Options(archs=("x86_32", "arm64")))


@pytest.mark.parametrize("records", ["all", "one", "none"])
def test_two_processes_write_what_one_does(model, records: str,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    kept = {"all": model.records, "one": model.records[:1], "none": ()}[records]
    assert len(model.records) > 3
    some = dataclasses.replace(model, records=kept)
    monkeypatch.setattr(cli_extract, "_SPLIT_RECORDS", 0)
    assert cli_extract._json_text(some, pretty=False) == model_json_text(some)


def test_a_marker_in_a_comment_is_not_where_records_are_cut(model, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    # The markers are random: a header cannot hold this run's, whatever it says.
    files = {**case_files("layout_traps"),
             "marker.h": b'/* \\0headerparse-1- "\\u0000headerparse-1-" */\nstruct m { int a; };\n'}
    got = extract(open_tree(str(write_tree(tmp_path, files))), Options(archs=("x86_32",)))
    monkeypatch.setattr(cli_extract, "_SPLIT_RECORDS", 0)
    assert cli_extract._json_text(got, pretty=False) == model_json_text(got)
