"""A plain-text progress bar on stderr: redrawn in place on a terminal, else a line a tenth."""

import sys
import time
from typing import TextIO

_REDRAW_SECONDS = 0.1
_WIDTH = 30


class ProgressBar:
    def __init__(self, label: str, total: int, stream: TextIO | None = None) -> None:
        self._label = label
        self._total = max(total, 1)
        self._stream = stream if stream is not None else sys.stderr
        self._interactive = self._stream.isatty()
        self._done = 0
        self._started = time.monotonic()
        self._drawn_at = 0.0
        self._tenths_shown = -1

    def advance(self, count: int = 1) -> None:
        self._done += count
        now = time.monotonic()
        if self._interactive:
            if now - self._drawn_at >= _REDRAW_SECONDS or self._done >= self._total:
                self._drawn_at = now
                self._stream.write("\r" + self._line(now))
                self._stream.flush()
            return
        tenths = self._done * 10 // self._total
        if tenths > self._tenths_shown:
            self._tenths_shown = tenths
            self._stream.write(self._line(now) + "\n")
            self._stream.flush()

    def finish(self) -> None:
        if self._interactive:
            self._stream.write("\r" + self._line(time.monotonic()) + "\n")
            self._stream.flush()

    def _line(self, now: float) -> str:
        filled = _WIDTH * min(self._done, self._total) // self._total
        bar = "#" * filled + "." * (_WIDTH - filled)
        elapsed = max(now - self._started, 1e-9)
        percent = 100 * self._done // self._total
        return (
            f"{self._label} [{bar}] {self._done}/{self._total} {percent:3d}% "
            f"{self._done / elapsed:6.0f}/s"
        )


def status_line(text: str, stream: TextIO | None = None) -> None:
    """One line of status (waiting, draining): overwritten on a terminal, printed elsewhere."""
    stream = stream if stream is not None else sys.stderr
    if stream.isatty():
        stream.write("\r\033[K" + text)
    else:
        stream.write(text + "\n")
    stream.flush()
