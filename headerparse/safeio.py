"""The one way headerparse writes its outputs and reads untrusted files (issue 15).

Outputs are written to a unique temporary file beside the target, flushed to disk
and renamed over it, so a reader (or a killed run) never sees half a file and two
concurrent runs never share a temporary name; only a regular file (or nothing) is
ever replaced: a device, FIFO, socket or directory named as output is refused.
Inputs that may be hostile are read with a size cap that holds *before* the bytes
are in memory, and cache entries only when they are regular files (a FIFO planted
in a shared cache must not hang a run).  Text shown to a person has its control
characters escaped, so a patch cannot move the cursor of the reviewer's terminal.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any


class Terminated(BaseException):
    """SIGTERM or SIGHUP: unwinds like Ctrl-C, so that every ``finally`` (temporary
    directories, worker processes, a Sphinx child) runs before the process exits."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


# The signal a run was asked to stop by. The handler raises Terminated, but Python
# swallows an exception raised while a finaliser runs (libclang's objects have
# __del__), so the run could carry on: outputs are published only after asking here.
_stop_signal: int | None = None


def request_stop(signum: int) -> None:
    global _stop_signal
    _stop_signal = signum


def raise_if_stopped() -> None:
    """Raise Terminated when the run was asked to stop: called before publishing."""
    if _stop_signal is not None:
        raise Terminated(_stop_signal)


class OutputError(Exception):
    """An output that cannot or must not be written; the message is one sentence."""


class InputTooLarge(Exception):
    """An input over its cap; raised before more than the cap has been read."""


# ------------------------------------------------------------------ outputs


def check_output_file(path: str | Path) -> Path:
    """``path`` if it may be replaced by an output: nothing there, or a regular file."""
    if str(path) == "":
        raise OutputError("the output file name is empty")
    p = Path(path)
    try:
        st = os.stat(p)     # through symlinks: a link to a file writes the file
    except FileNotFoundError:
        parent = p.parent
        if not parent.is_dir():
            raise OutputError(f"cannot write {p}: its directory {parent} does not exist") \
                from None
        return p
    except OSError as exc:
        raise OutputError(f"cannot write {p}: {exc.strerror}") from exc
    if stat.S_ISDIR(st.st_mode):
        raise OutputError(f"cannot write {p}: it is a directory")
    if not stat.S_ISREG(st.st_mode):
        raise OutputError(f"refusing to replace {p}: it is not a regular file "
                          f"({_kind(st.st_mode)})")
    return p


def write_output(path: str | Path, data: bytes | str | Sequence[bytes]) -> None:
    """Replace ``path`` atomically by ``data`` (str: UTF-8; a sequence: parts, one after
    the other); OutputError when it cannot."""
    target = check_output_file(path)
    if target.is_symlink():
        target = Path(os.path.realpath(target))
    blobs = ([data.encode("utf-8", "surrogateescape")] if isinstance(data, str)
             else [data] if isinstance(data, bytes) else data)
    fd, tmp = _temp_beside(target)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.writelines(blobs)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        check_output_file(target)       # still a regular file, or still nothing
        raise_if_stopped()
        os.replace(tmp, target)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from exc
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def _temp_beside(target: Path) -> tuple[int, str]:
    try:
        return tempfile.mkstemp(prefix=f".{target.name[:80]}.", suffix=".tmp",
                                dir=target.parent)
    except OSError as exc:
        raise OutputError(f"cannot write {target}: {exc.strerror}") from exc


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "a special file"


def output_dir(path: str | Path) -> Path:
    """The directory ``-o`` names, created if needed; OutputError for anything else."""
    if str(path) == "":
        raise OutputError("the output directory name is empty")
    p = Path(path).absolute()
    if p.is_symlink():
        raise OutputError(f"refusing to write into {p}: it is a symlink (name its target)")
    if p.exists() and not p.is_dir():
        raise OutputError(f"cannot write into {p}: it is not a directory")
    try:
        p.mkdir(parents=True, exist_ok=True)
        probe = tempfile.mkstemp(prefix=".probe-", dir=p)
        os.close(probe[0])
        os.unlink(probe[1])
    except OSError as exc:
        raise OutputError(f"cannot write into {p}: {exc.strerror}") from exc
    return p


# ------------------------------------------------------------------ inputs


def read_capped(stream: IO[bytes], cap: int, what: str) -> bytes:
    """At most ``cap`` bytes of ``stream``; InputTooLarge as soon as there are more."""
    chunks, size = [], 0
    while True:
        chunk = stream.read(min(1 << 20, cap + 1 - size))
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        size += len(chunk)
        if size > cap:
            raise InputTooLarge(f"{what} is more than {cap} bytes")


def read_file_capped(path: str | Path, cap: int, what: str | None = None, *,
                     regular: bool = False) -> bytes:
    """A file's bytes, refusing more than ``cap`` without reading them (OSError passes).

    ``regular``: refuse anything but a regular file, without blocking on a FIFO (for
    files found in a directory, which the user did not name one by one)."""
    flags = os.O_RDONLY | os.O_CLOEXEC | (os.O_NONBLOCK if regular else 0)
    with os.fdopen(os.open(path, flags), "rb") as fh:
        st = os.fstat(fh.fileno())
        label = what or str(path)
        if stat.S_ISDIR(st.st_mode):
            raise IsADirectoryError(21, "Is a directory", str(path))
        if regular and not stat.S_ISREG(st.st_mode):
            raise OSError(22, f"not a regular file ({_kind(st.st_mode)})", str(path))
        if stat.S_ISREG(st.st_mode) and st.st_size > cap:
            raise InputTooLarge(f"{label} is {st.st_size} bytes, more than {cap}")
        return read_capped(fh, cap, label)


def read_regular(path: Path, cap: int) -> bytes | None:
    """The bytes of ``path`` if it is a regular file (symlinks not followed) of at most
    ``cap`` bytes; None otherwise, without blocking on a FIFO or device."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_size > cap:
            return None
        with os.fdopen(fd, "rb", closefd=False) as fh:
            data = fh.read(cap + 1)
        return data if len(data) <= cap else None
    except OSError:
        return None
    finally:
        os.close(fd)


# ------------------------------------------------------------------ temporary directories


def private_tempdir(prefix: str) -> tempfile.TemporaryDirectory[str]:
    """A temporary directory named after this process, after removing those of
    processes of the same ``prefix`` that are gone (killed with SIGKILL, which no
    clean-up survives)."""
    base = Path(tempfile.gettempdir())
    with contextlib.suppress(OSError):
        for stale in base.glob(f"{prefix}*-*"):
            pid = stale.name[len(prefix):].split("-", 1)[0]
            if pid.isdigit() and not _alive(int(pid)) and stale.is_dir() \
                    and not stale.is_symlink() and stale.stat().st_uid == os.getuid():
                shutil.rmtree(stale, ignore_errors=True)
    return tempfile.TemporaryDirectory(prefix=f"{prefix}{os.getpid()}-")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# ------------------------------------------------------------------ text shown to people

# C0 controls but tab and newline, DEL, C1 controls, and the bidirectional overrides and
# isolates that reorder what a terminal or browser shows ("Trojan Source").
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e"
                       "\u2066-\u2069]")


def escape_controls(text: str) -> str:
    """``text`` with every control character shown as ``\\xNN`` / ``\\uNNNN``."""
    if not _CONTROLS.search(text):
        return text
    return _CONTROLS.sub(_escape_one, text)


def _escape_one(m: re.Match[str]) -> str:
    ch = ord(m.group())
    return f"\\x{ch:02x}" if ch < 0x100 else f"\\u{ch:04x}"


class EscapingWriter:
    """A text stream that escapes control characters on the way to ``inner``."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def write(self, text: str) -> int:
        self._inner.write(escape_controls(text))
        return len(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)
