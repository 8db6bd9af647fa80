"""The CLI as a user meets it: exit codes, messages, output shapes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from support.extract_case import case_files, write_tree

from headerparse.tree import fetch_debian_headers


def run(*args: str, cache: Path, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, HEADERPARSE_CACHE=str(cache))
    return subprocess.run([sys.executable, "-m", "headerparse", *args], capture_output=True,
                          text=True, env=env, cwd=cwd, timeout=300)


def test_missing_tree_is_a_usage_error(tmp_path: Path) -> None:
    r = run("extract", "--tree", str(tmp_path / "nope"), "--json", "-", cache=tmp_path)
    assert r.returncode == 2
    assert "nope" in r.stderr and "Traceback" not in r.stderr


def test_non_xen_directory_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "foo.h").write_text("int x;\n")
    r = run("layout", "--all", "--tree", str(tmp_path / "src"), cache=tmp_path)
    assert r.returncode == 2
    assert "xen.h" in r.stderr and "Traceback" not in r.stderr


def test_unknown_arch_and_symbol(tmp_path: Path) -> None:
    tree = write_tree(tmp_path, case_files("macros"))
    r = run("show", "MAC_PLAIN", "--tree", str(tree), "--arch", "vax", cache=tmp_path)
    assert r.returncode == 2 and "unknown arch vax" in r.stderr
    r = run("show", "NO_SUCH_THING", "--tree", str(tree), cache=tmp_path)
    assert r.returncode == 2 and "NO_SUCH_THING" in r.stderr and "Traceback" not in r.stderr


def test_broken_header_exits_1_with_file_line(tmp_path: Path) -> None:
    tree = write_tree(tmp_path, case_files("broken"))
    r = run("extract", "-q", "--tree", str(tree), "--json", str(tmp_path / "m.json"),
            cache=tmp_path)
    assert r.returncode == 1
    assert "broken.h:12:" in r.stderr and "error:" in r.stderr
    assert "[x86_32,x86_64,arm32,arm64]" in r.stderr
    data = json.loads((tmp_path / "m.json").read_text())
    assert any(rec["key"] == "struct broken_after" for rec in data["records"])
    again = run("extract", "-q", "--tree", str(tree), "--json", str(tmp_path / "m2.json"),
                cache=tmp_path)
    assert again.returncode == 1 and "broken.h:12:" in again.stderr, "cached run differs"


def test_non_utf8_bytes_are_reported_not_fatal(tmp_path: Path) -> None:
    files = case_files("macros")
    files["latin.h"] = b"/* caf\xe9 */\n#define LATIN_VALUE 3\n"
    tree = write_tree(tmp_path, files)
    r = run("show", "LATIN_VALUE", "--tree", str(tree), cache=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "latin.h:1:1: warning:" in r.stderr and "UTF-8" in r.stderr
    assert "value: 3" in r.stdout


def test_layout_json_shape(tmp_path: Path) -> None:
    tree = write_tree(tmp_path, case_files("layout_traps"))
    r = run("layout", "struct trap_u64", "trap_anon_t", "--arch", "x86_32", "--format", "json",
            "--tree", str(tree), cache=tmp_path)
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["arch"] == "x86_32"
    t = data["types"]["struct trap_u64"]
    assert {k: t[k] for k in ("kind", "size", "align", "file")} == {
        "kind": "struct", "size": 12, "align": 4, "file": "layout_traps.h"}
    assert t["members"][1] == {"path": "id", "offset": 4, "size": 8, "bit_offset": None,
                               "bit_size": None, "type": "uint64_t"}
    assert "trap_anon_t" in data["types"]


def test_layout_text_shows_holes(tmp_path: Path) -> None:
    tree = write_tree(tmp_path, case_files("layout_traps"))
    r = run("layout", "trap_u64_t", "--arch", "x86_64", "--tree", str(tree), cache=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "XXX 4 byte hole at 4" in r.stdout and "size: 16, align: 8" in r.stdout


@pytest.fixture(scope="module")
def debian_417(xen_tree_417) -> Path:  # noqa: ARG001 - the fixture fetches or skips/fails
    return fetch_debian_headers("bookworm")


@pytest.mark.slow
def test_show_sched_op_on_real_headers(debian_417: Path, tmp_path: Path) -> None:
    r = run("show", "SCHEDOP_shutdown", "--tree", str(debian_417), cache=tmp_path)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "Halt execution of this domain" in out
    assert "value: 2 (all of x86_32, x86_64, arm32, arm64)" in out
    assert "op group: sched_op" in out and "argument struct sched_shutdown" in out
    assert "hypercall __HYPERVISOR_sched_op (29)" in out
    assert "long HYPERVISOR_sched_op(enum sched_op cmd, void *arg, ...)" in out
    r = run("show", "SHUTDOWN_suspend", "struct sched_shutdown", "--tree", str(debian_417),
            cache=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "Clean up, save suspend info, kill." in r.stdout
    assert "used by: SCHEDOP_shutdown" in r.stdout


@pytest.mark.slow
def test_blkif_request_id_offset_on_real_headers(debian_417: Path, tmp_path: Path) -> None:
    for arch, offset, size in (("x86_32", 4, 108), ("x86_64", 8, 112)):
        r = run("layout", "struct blkif_request", "--arch", arch, "--format", "json",
                "--tree", str(debian_417), cache=tmp_path)
        assert r.returncode == 0, r.stderr
        t = json.loads(r.stdout)["types"]["struct blkif_request"]
        assert t["size"] == size
        assert next(m for m in t["members"] if m["path"] == "id")["offset"] == offset


@pytest.mark.slow
def test_real_headers_parse_cleanly_and_say_what_they_skip(debian_417: Path,
                                                           tmp_path: Path) -> None:
    r = run("extract", "--tree", str(debian_417), "--json", str(tmp_path / "m.json"),
            cache=tmp_path)
    assert r.returncode == 0, r.stderr
    data = json.loads((tmp_path / "m.json").read_text())
    assert not [d for d in data["diagnostics"] if d["severity"] == "error"]
    status = {h["path"]: h for h in data["headers"]}
    assert status["dom0_ops.h"]["status"]["x86_64"] == "error-by-design"
    assert status["arch-x86/hvm/save.h"]["status"]["x86_32"] == "fragment"
    assert status["arch-x86/xen-x86_32.h"]["status"]["x86_64"] == "not-included"
    assert status["arch-arm.h"]["status"]["x86_32"] == "other-arch"
    assert all(h["note"] for h in data["headers"] if set(h["status"].values()) != {"parsed"})
    names = {h["name"] for h in data["hypercalls"]}
    assert {"sched_op", "memory_op", "grant_table_op", "hvm_op"} <= names
    sched = next(h for h in data["hypercalls"] if h["name"] == "sched_op")
    assert sched["number"] == 29 and sched["prototype"]["variadic"]


def test_rev_reads_a_commit_not_the_worktree(tmp_path: Path) -> None:
    repo = tmp_path / "xen"
    write_tree(repo / "xen" / "include", case_files("macros"))

    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True,
                       env=dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t",
                                GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@t"))
    git("init", "-q")
    git("add", "-A")
    git("commit", "-qm", "base")
    header = repo / "xen" / "include" / "public" / "macros.h"
    header.write_text(header.read_text().replace("MAC_PLAIN        29", "MAC_PLAIN        30"))
    r = run("show", "MAC_PLAIN", "--tree", str(repo), "--rev", "HEAD", cache=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "value: 29" in r.stdout
    r = run("show", "MAC_PLAIN", "--tree", str(repo), cache=tmp_path)
    assert "value: 30" in r.stdout
    r = run("show", "MAC_PLAIN", "--tree", str(repo), "--rev", "nosuchrev", cache=tmp_path)
    assert r.returncode == 2 and "nosuchrev" in r.stderr and "Traceback" not in r.stderr


def test_extract_to_stdout_and_to_a_file_say_the_same(tmp_path: Path) -> None:
    # ``python -m headerparse extract`` leaves without freeing its heap: what it wrote,
    # to a pipe or a file, is whole all the same.
    tree = write_tree(tmp_path / "t", case_files("layout_traps"))
    piped = run("extract", "--tree", str(tree), "--no-cache", "--json", "-", cache=tmp_path)
    filed = run("extract", "--tree", str(tree), "--json", str(tmp_path / "m.json"),
                cache=tmp_path)
    assert piped.returncode == filed.returncode == 0, piped.stderr + filed.stderr
    assert piped.stdout == (tmp_path / "m.json").read_text()
    assert json.loads(piped.stdout)["records"]


def test_extract_writes_the_json_in_chunks_of_its_parts_whole_and_in_order() -> None:
    from headerparse.cli.extract import _chunks

    parts = [f"[{n}," * (n % 7) for n in range(500)] + ["\n"]
    chunks = _chunks(parts, size=300)
    assert b"".join(chunks) == "".join(parts).encode("ascii")
    assert 1 < len(chunks) < len(parts) and all(len(c) >= 300 for c in chunks[:-1])
    assert _chunks([]) == []


def test_an_output_that_fails_is_the_error_said_while_the_cache_copy_fails_too(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    # The cache copy is written in a thread while the output is: the output's error is
    # the one the user gets, one line, exit 2; the copy's is not put in its place.
    import headerparse.cli.extract as cli_extract
    import headerparse.extract as extract_pkg
    from headerparse.cli import main
    from headerparse.safeio import OutputError

    def no_output(path: object, data: object) -> None:
        raise OutputError(f"cannot write {path}: no space left on device")

    def no_copy(*_args: object) -> None:
        raise RuntimeError("the cache copy broke")

    monkeypatch.setattr(cli_extract, "write_output", no_output)
    monkeypatch.setattr(extract_pkg, "store_json", no_copy)
    monkeypatch.setenv("HEADERPARSE_CACHE", str(tmp_path / "cache"))
    tree = write_tree(tmp_path / "t", case_files("layout_traps"))
    code = main(["extract", "-q", "--tree", str(tree), "--json", str(tmp_path / "m.json")])
    err = capsys.readouterr().err
    assert code == 2 and "no space left on device" in err and "cache copy" not in err
    assert not (tmp_path / "m.json").exists()


def test_each_command_is_registered_by_the_family_the_table_names() -> None:
    import argparse

    from headerparse.cli.commands import COMMANDS, FAMILIES, _family, build_parser

    registered = {}
    for family in FAMILIES:
        sub = argparse.ArgumentParser().add_subparsers()
        _family(family).register(sub)
        registered.update(dict.fromkeys(sub.choices, family))
    assert registered == COMMANDS
    # A run's parser has its command's family; --help, no command or a typo, all of them.
    subs = {tuple(next(a for a in build_parser(argv)._actions
                       if isinstance(a, argparse._SubParsersAction)).choices)
            for argv in (["layout", "x"], ["-q", "review", "p"])}
    assert subs == {("show", "layout"), ("check", "review")}
    for argv in ([], ["--help"], ["extrct"]):
        action = next(a for a in build_parser(argv)._actions
                      if isinstance(a, argparse._SubParsersAction))
        assert set(action.choices) == set(COMMANDS)


def test_a_mistyped_command_lists_every_command(tmp_path: Path) -> None:
    r = run("extrct", cache=tmp_path)
    assert r.returncode == 2
    assert "invalid choice: 'extrct'" in r.stderr and "'history'" in r.stderr
