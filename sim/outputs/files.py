"""Files and folders: atomic writes, folders no two runs share, and cleanup when a run is stopped.

Every file is written to a temporary file in its own folder (`.partial-PID-NAME.XXXX.tmp`) and
renamed into place, so a reader sees the whole file or none of it. A temporary file is removed when
its write fails or the process is interrupted (Ctrl-C, or SIGTERM once
`stop_cleanly_on_termination` is installed); one left by a killed process names its process, so
`remove_stale_temporaries` can tell it from a write still under way.
"""

from __future__ import annotations

import errno
import itertools
import json
import os
import signal
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import IO, Any

import pandas as pd

from sim.errors import UserError

TEMPORARY_PREFIX = ".partial-"
TEMPORARY_SUFFIX = ".tmp"


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _current_umask()
"""The process's file-creation mask, so that atomically written files get the usual permissions."""


def write_atomically(path: Path, write: Any, binary: bool = False) -> None:
    """Write through a temporary file in the same folder, then rename: readers never see half a
    file. `write` gets the open stream (bytes when `binary`, else UTF-8 text). An OSError names
    `path`, whichever step failed."""
    path = Path(path)
    try:
        _write_and_rename(path, write, binary)
    except OSError as error:
        error.filename, error.filename2 = str(path), None
        raise


def _write_and_rename(path: Path, write: Any, binary: bool) -> None:
    prefix = f"{TEMPORARY_PREFIX}{os.getpid()}-{path.name}."
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=prefix, suffix=TEMPORARY_SUFFIX)
    try:
        stream: IO[Any] = (
            os.fdopen(handle, "wb") if binary else os.fdopen(handle, "w", newline="", encoding="utf-8")
        )
        with stream:
            write(stream)
        os.chmod(temporary, 0o666 & ~_UMASK)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_json(path: Path, data: Any) -> None:
    write_atomically(path, lambda stream: json.dump(data, stream, indent=2))


CSV_FLOATS = "%.6g"
"""How CSV files write floating-point numbers."""


def write_csv(path: Path, frame: pd.DataFrame) -> None:
    write_atomically(path, lambda stream: frame.to_csv(stream, index=False, float_format=CSV_FLOATS))


def temporary_files(folder: Path) -> list[Path]:
    """The temporary files of unfinished writes in `folder` (not in its subfolders)."""
    return sorted(Path(folder).glob(f"{TEMPORARY_PREFIX}*{TEMPORARY_SUFFIX}"))


def remove_stale_temporaries(folder: Path) -> list[Path]:
    """Remove the temporary files in `folder` whose writer is gone (a killed process) or is this
    process (which writes nothing while it finishes a folder); return them."""
    stale = [path for path in temporary_files(folder) if not _writer_alive(path)]
    for path in stale:
        path.unlink(missing_ok=True)
    return stale


def _writer_alive(path: Path) -> bool:
    """Whether the process named in a temporary file's name is another process still running."""
    pid = path.name.removeprefix(TEMPORARY_PREFIX).partition("-")[0]
    if not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except (ProcessLookupError, OverflowError):
        return False
    except PermissionError:
        return True
    return True


def remove_written_since(folder: Path, since: float, keep: bool = False) -> None:
    """Remove the files in `folder` (and its subfolders) last written at or after `since` (a
    `time.time()`), then the subfolders and `folder` itself (unless `keep`) if that leaves them
    empty. Older files stay, so a run pointed at a folder of the user's removes only what it wrote."""
    folder = Path(folder)
    if not folder.is_dir() or folder.is_symlink():
        return
    for path in sorted(folder.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        if path.is_dir() and not path.is_symlink():
            _remove_if_empty(path)
        elif path.lstat().st_mtime >= since:
            path.unlink(missing_ok=True)
    if not keep:
        _remove_if_empty(folder)


def _remove_if_empty(folder: Path) -> bool:
    try:
        folder.rmdir()
    except OSError:
        return False
    return True


def create_unique_folder(path: Path) -> Path:
    """Create `path`, or `path-1`, `path-2`, ... when it exists, and return the folder created.

    The folder is taken by creating it (no `exist_ok`), so two processes asking for the same name
    at the same moment get two folders. Parent folders created here are removed again on failure.
    """
    path = Path(path)
    created = _create_parents(path.parent)
    try:
        return _take_free_name(path)
    except OSError:
        for folder in reversed(created):
            _remove_if_empty(folder)
        raise


def _take_free_name(path: Path) -> Path:
    attempt = 0
    while True:
        candidate = path if attempt == 0 else path.with_name(f"{path.name}-{attempt}")
        try:
            candidate.mkdir()
            return candidate
        except FileExistsError:
            attempt += 1


def _create_parents(folder: Path) -> list[Path]:
    """Create `folder` and the folders above it that are missing; return those created, outermost first."""
    missing = [folder, *folder.parents]
    missing = list(reversed(list(itertools.takewhile(lambda p: not p.is_dir(), missing))))
    created = []
    try:
        for parent in missing:
            try:
                parent.mkdir()
            except FileExistsError:
                if not parent.is_dir():
                    raise
                continue
            created.append(parent)
    except OSError:
        for parent in reversed(created):
            _remove_if_empty(parent)
        raise
    return created


@dataclass
class NewFolders:
    """`${new_folder:BASE,NAME}`, Hydra's run and sweep folders: creates BASE/NAME (with a suffix
    when another run took that name first) and gives its path, remembering the folders it created;
    one line naming the fix when BASE is empty or cannot hold it. With `create` false (`--cfg`,
    `--info`: nothing runs) it only gives the path."""

    create: bool = True
    created: list[Path] = field(default_factory=list)

    def __call__(self, base: str, name: str) -> str:
        if not str(base).strip():
            raise UserError("results is empty: give the folder for run folders, such as results=results")
        path = Path(str(base)) / str(name)
        if not self.create:
            return str(path)
        try:
            folder = create_unique_folder(path)
        except OSError as error:
            fix = "set results= to a folder you can write to"
            raise UserError(f"{unwritable(error, Path(str(base)))}: {fix}") from error
        self.created.append(folder)
        return str(folder)


def unwritable(error: OSError, base: Path | None = None) -> str:
    """What an OSError from writing says, in a few words: the path and the reason."""
    blocker = _file_in_the_way(base) if base is not None else None
    if blocker is not None:
        return f"{blocker} is a file, not a folder"
    where = f" {error.filename}" if error.filename else ""
    return f"cannot write{where}: {error.strerror or error}"


def no_room_or_no_access(error: OSError) -> str:
    """The fix for an OSError from writing: room on the disk, or a folder one may write to."""
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return "free some space"
    return "make the folder writable"


def _file_in_the_way(base: Path) -> Path | None:
    """The first existing path at or above `base` when it is not a folder."""
    for path in (base, *base.parents):
        if path.exists() or path.is_symlink():
            return None if path.is_dir() else path
    return None


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised as Ctrl-C is, so that cleanup runs and temporary files go."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum

    def __str__(self) -> str:
        return f"stopped by signal {signal.Signals(self.signum).name}"


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    raise Terminated(signum)


def stop_cleanly_on_termination() -> None:
    """Turn SIGTERM and SIGHUP into `Terminated` in this process (the main thread)."""
    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), _raise_terminated)


def interrupted_status(error: KeyboardInterrupt) -> int:
    """The exit status of a process stopped by a signal: 128 plus its number (130 for Ctrl-C)."""
    return 128 + (error.signum if isinstance(error, Terminated) else signal.SIGINT)
