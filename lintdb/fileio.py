"""Reading and writing source files without corrupting them: encoding (PEP 263), BOM, line endings
and file mode are kept; writes are atomic; a file changed on disk since it was read is not overwritten."""

from __future__ import annotations

import io
import os
import tempfile
import tokenize
from dataclasses import dataclass
from pathlib import Path

from lintdb.engine import SourceError


@dataclass(frozen=True)
class SourceFile:
    """A file's text and what is needed to write it back byte-compatible."""

    path: Path
    text: str
    encoding: str
    original: bytes


def decode(data: bytes) -> tuple[str, str]:
    """The text and encoding of Python source bytes (BOM and coding cookie honoured)."""
    if b"\x00" in data:
        raise SourceError("binary file (contains NUL bytes), not Python source")
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        return data.decode(encoding), encoding
    except (SyntaxError, LookupError, UnicodeDecodeError) as error:
        raise SourceError(f"cannot decode: {error}; save the file as UTF-8 or declare its encoding (PEP 263)") from None


def read_source(path: Path) -> SourceFile:
    """Read and decode a source file; raises SourceError with a one-line reason."""
    try:
        data = path.read_bytes()
    except IsADirectoryError:
        raise SourceError("is a directory, not a file") from None
    except FileNotFoundError:
        raise SourceError("no such file (or a broken symbolic link)") from None
    except OSError as error:
        raise SourceError(f"cannot read: {error.strerror or error}") from None
    text, encoding = decode(data)
    return SourceFile(path, text, encoding, data)


def write_source(source: SourceFile, text: str) -> None:
    """Atomically replace the file's content, unless it changed on disk since it was read."""
    try:
        current = source.path.read_bytes()
    except OSError as error:
        raise SourceError(f"not written: cannot re-read before writing: {error.strerror or error}") from None
    if current != source.original:
        raise SourceError("not written: the file changed on disk while it was being checked")
    try:
        data = text.encode(source.encoding)
    except UnicodeEncodeError as error:
        raise SourceError(
            f"not written: the fixed text cannot be encoded as {source.encoding} ({error.reason})"
        ) from None
    mode = source.path.stat().st_mode & 0o7777
    directory = source.path.parent
    handle, temp = tempfile.mkstemp(prefix=f".{source.path.name}.", suffix=".lintdb-tmp", dir=directory)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.chmod(temp, mode)
        os.replace(temp, source.path)
    except OSError as error:
        if os.path.exists(temp):
            os.unlink(temp)
        raise SourceError(f"not written: {error.strerror or error}") from None
