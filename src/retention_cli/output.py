"""The one way ``retention`` writes a file: never over an input, atomically, with clear errors.

Every output (``-o``, ``--rejects``, ``--junit``, ``--summary``, ``init``) goes
through :func:`atomic_open`::

    protected = protected_paths(inputs=[file], baseline=baseline, config=config)
    with atomic_open(output, protected=protected, param="output") as fh:
        fh.write(text)

What it promises:

- **Inputs are never overwritten.** A path that is, or resolves to (symlinks
  followed, hard links by inode), a protected file is refused with a
  :class:`~retention_cli.errors.UsageError` before anything is written.
- **The previous file is never half-replaced.** The data goes to a temporary
  file ``.NAME.<random>.tmp`` (``tempfile.mkstemp``) in the same directory, is flushed and fsynced, then
  renamed onto ``NAME`` in one step (and the directory fsynced). On any failure
  (a full disk, a render error, Ctrl-C) the temporary file is removed and the
  previous ``NAME`` is untouched. Only a process killed outright (``kill -9``,
  power loss) can leave a stray ``.NAME.<random>.tmp`` behind; ``NAME`` itself is
  then still the previous file.
- **The file keeps its permission bits**; a new file gets the mode ``open()``
  would give it (``0o666`` less the umask).
- **Errors name the parameter**: an unwritable path or a full disk is a
  ``UsageError`` with ``param`` set (``output: cannot write …``), never a traceback.

A path that is something other than a regular file (``/dev/null``, a FIFO),
or lies under ``/dev/`` or ``/proc/`` (``/dev/stdout``, ``/dev/fd/3``), is
written in place: there is nothing to rename onto.
A symlinked output is written through the link (the target is replaced and
the link kept). A file with several hard links is replaced under this name
only; the other names keep the previous content.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any, NamedTuple

from retention_cli.errors import RetentionError, UsageError

StrPath = str | os.PathLike[str]

_STREAMS = ("/dev/", "/proc/")
"""Paths written in place, never renamed onto: devices, pipes, ``/dev/stdout``."""
_NO_SPACE = {errno.ENOSPC, errno.EFBIG, getattr(errno, "EDQUOT", errno.ENOSPC)}


class Protected(NamedTuple):
    """A file that no output may replace: ``role`` says what it is in messages."""

    role: str
    """What the file is, e.g. ``"input file"``, ``"baseline"``, ``"config"``."""
    path: Path


def protected_paths(
    *,
    inputs: Iterable[StrPath | None] = (),
    baseline: StrPath | None = None,
    thresholds: StrPath | None = None,
    spend: StrPath | None = None,
    config: StrPath | None = None,
    default_config: bool = True,
    others: Iterable[tuple[str, StrPath | None]] = (),
) -> tuple[Protected, ...]:
    """The files a command reads, as :class:`Protected` entries for :func:`atomic_open`.

    ``None`` and ``-`` (stdin) are skipped. With ``config=None`` and
    ``default_config`` set, ``./retention.yaml`` is protected too (it is read
    automatically when it exists). ``others`` adds ``(role, path)`` pairs.
    """
    from retention_cli.defaults import DEFAULT_CONFIG_NAME

    if config is None and default_config:
        config = DEFAULT_CONFIG_NAME
    given: list[tuple[str, StrPath | None]] = [("input file", p) for p in inputs]
    given += [("baseline", baseline), ("thresholds file", thresholds), ("spend file", spend)]
    given += [("config", config), *others]  # e.g. the --accounts file, the fx rates file
    return tuple(Protected(role, Path(p)) for role, p in given if p is not None and str(p) != "-")


def _same(a: StrPath, b: StrPath) -> bool:
    """Whether two paths name one file: the same resolved path, or the same inode."""
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return Path(a).samefile(b)
    except (OSError, ValueError):
        return False


def refuse_inputs(
    path: StrPath, protected: Iterable[Protected | StrPath], *, param: str = "output"
) -> None:
    """Raise ``UsageError`` (with ``param``) when ``path`` is a ``protected`` file.

    The same file means the same path after symlinks, or a hard link to it. A
    bare path in ``protected`` counts as an input file; a protected path that
    does not exist (an absent ``retention.yaml``) protects nothing.
    """
    for entry in protected:
        role, other = entry if isinstance(entry, Protected) else ("input file", Path(entry))
        if other.exists() and _same(path, other):
            msg = f"cannot write {str(path)!r}: it is the {role} {str(other)!r}"
            raise UsageError(msg, param=param, hint="choose another output path")


def check_outputs(
    outputs: Mapping[str, StrPath | None], protected: Iterable[Protected | StrPath] = ()
) -> None:
    """Refuse outputs (``{param: path}``) that would replace an input or each other.

    Call it before any work: it catches ``-o d.csv`` over the input ``d.csv``
    and ``-o x.csv --rejects x.csv`` alike. ``None`` and ``-`` are skipped.
    """
    protected = tuple(protected)
    seen: list[tuple[str, StrPath]] = []
    for param, path in outputs.items():
        if path is None or str(path) == "-":
            continue
        refuse_inputs(path, protected, param=param)
        for other_param, other in seen:
            if _same(path, other):
                msg = f"cannot write {str(path)!r}: it is also the {other_param} file"
                raise UsageError(msg, param=param, hint="give each output its own path")
        seen.append((param, path))


def _os_error(exc: BaseException) -> OSError | None:
    """The ``OSError`` behind ``exc``, if any.

    That is ``exc`` itself, its explicit cause, or its first argument
    (XlsxWriter's ``FileCreateError`` wraps it so).
    """
    seen: set[int] = set()
    stack: list[Any] = [exc]
    while stack:
        err = stack.pop()
        if not isinstance(err, BaseException) or id(err) in seen:
            continue
        seen.add(id(err))
        if isinstance(err, OSError):
            return err
        stack += [err.__cause__, *err.args[:1]]
    return None


def _write_error(path: StrPath, err: OSError, *, param: str, existed: bool) -> UsageError:
    kept = "; the previous file is unchanged" if existed else ""
    if err.errno in _NO_SPACE:
        reason = os.strerror(err.errno).lower() if err.errno else "no space left"
        msg = f"{reason} writing {str(path)!r}{kept}"
        return UsageError(msg, param=param, hint="free some space, or write somewhere else")
    msg = f"cannot write {str(path)!r} ({err.strerror or err}){kept}"
    return UsageError(msg, param=param, hint="check that the directory exists and is writable")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync_dir(directory: Path) -> None:
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)
    try:
        fd = os.open(directory, flags)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:  # some filesystems (and Windows) cannot sync a directory
        pass
    finally:
        os.close(fd)


def _open_mode(*, binary: bool, append: bool) -> dict[str, Any]:
    if binary:
        return {"mode": "ab" if append else "wb"}
    return {"mode": "a" if append else "w", "encoding": "utf-8", "newline": "\n"}


@contextlib.contextmanager
def atomic_open(
    path: StrPath,
    *,
    binary: bool = False,
    append: bool = False,
    protected: Iterable[Protected | StrPath] = (),
    param: str = "output",
) -> Iterator[IO[Any]]:
    """Open ``path`` for writing so that it is replaced whole or not at all.

    Yields a file object (text: UTF-8 with Unix line ends; ``binary=True``:
    bytes). ``append=True`` keeps the current content and adds to it (still
    replaced in one step). ``protected`` files are refused (see
    :func:`refuse_inputs`); ``param`` is the parameter named in every error.
    On an exception inside the ``with`` block the output is discarded and the
    exception propagates; an ``OSError`` (disk full, I/O error) becomes a
    ``UsageError`` saying the previous file is unchanged.
    """
    refuse_inputs(path, protected, param=param)
    try:
        info: os.stat_result | None = Path(path).stat()  # the kernel follows /proc links too
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise _write_error(path, exc, param=param, existed=False) from None
    if info is not None and stat.S_ISDIR(info.st_mode):
        msg = f"cannot write {str(path)!r}: it is a directory"
        raise UsageError(msg, param=param, hint="give a file name")
    target = Path(os.path.realpath(path))
    special = info is not None and not stat.S_ISREG(info.st_mode)
    if special or str(path).startswith(_STREAMS) or str(target).startswith(_STREAMS):
        yield from _direct(path, binary=binary, append=append, param=param)
        return
    existed = info is not None
    try:
        fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise _write_error(path, exc, param=param, existed=False) from None
    tmp = Path(name)
    try:
        try:
            mode = stat.S_IMODE(info.st_mode) if info is not None else 0o666 & ~_umask()
            tmp.chmod(mode)
            made = tmp.stat()
            owner = (info.st_uid, info.st_gid) if info is not None else (made.st_uid, made.st_gid)
            if hasattr(os, "chown") and owner != (made.st_uid, made.st_gid):
                with contextlib.suppress(OSError):  # only root may give a file away
                    os.chown(tmp, *owner)
            fh = os.fdopen(fd, **_open_mode(binary=binary, append=False))
        except BaseException:
            os.close(fd)
            raise
        with fh:
            if append and existed:
                with target.open("rb") as old:
                    (fh if binary else fh.buffer).write(old.read())
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        tmp.replace(target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        err = _os_error(exc) if isinstance(exc, Exception) else None
        if err is not None and not isinstance(exc, RetentionError):
            raise _write_error(path, err, param=param, existed=existed) from exc
        raise
    _fsync_dir(target.parent)


def _direct(path: StrPath, *, binary: bool, append: bool, param: str) -> Iterator[IO[Any]]:
    """Write straight to a device or pipe (``/dev/null``, ``/dev/stdout``)."""
    try:
        fh = Path(path).open(**_open_mode(binary=binary, append=append))  # noqa: SIM115
    except OSError as exc:
        raise _write_error(path, exc, param=param, existed=False) from None
    try:
        with fh:
            yield fh
    except BrokenPipeError:
        raise  # like stdout: the reader stopped early
    except OSError as exc:
        raise _write_error(path, exc, param=param, existed=False) from exc


def write_file(
    path: StrPath,
    data: str | bytes,
    *,
    append: bool = False,
    protected: Iterable[Protected | StrPath] = (),
    param: str = "output",
) -> None:
    """Write ``data`` (text or bytes) to ``path`` through :func:`atomic_open`."""
    with atomic_open(
        path, binary=isinstance(data, bytes), append=append, protected=protected, param=param
    ) as fh:
        fh.write(data)
