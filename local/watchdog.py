"""Watches the moto server the local run stands on, and says once, and why, when it is gone.

Without moto nothing can work: every request would answer 503 and the poller would fail forever,
so the run is better stopped with the reason than kept half alive.
"""

import threading
import time
from collections.abc import Callable

# How long the endpoint may refuse connections before moto counts as gone; a moment of refusal
# is a server busy restarting a listener, a few seconds is a server that is not coming back.
REFUSAL_GRACE_SECONDS = 3.0
CHECK_INTERVAL_SECONDS = 0.5


class Failure:
    """Set once, from the watchdog's thread, when the local run can no longer work."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self.reason: str | None = None

    def set(self, reason: str) -> None:
        with self._lock:
            if self.reason is None:
                self.reason = reason
                self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()

    def wait(self, timeout: float) -> bool:
        return self._event.wait(timeout)


class Watchdog:
    """Checks a server every interval: an exited process is reported at once, an endpoint that
    refuses connections once the refusal has lasted the grace period. It reports once, then ends.
    """

    def __init__(
        self,
        subject: str,
        exit_code: Callable[[], int | None],
        accepts_connections: Callable[[], bool],
        on_failure: Callable[[str], None],
        interval: float = CHECK_INTERVAL_SECONDS,
        grace: float = REFUSAL_GRACE_SECONDS,
    ) -> None:
        self._subject = subject
        self._exit_code = exit_code
        self._accepts_connections = accepts_connections
        self._on_failure = on_failure
        self._interval = interval
        self._grace = grace
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="watchdog", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def _run(self) -> None:
        refused_since: float | None = None
        while not self._stop.wait(self._interval):
            code = self._exit_code()
            if code is not None:
                self._on_failure(f"{self._subject} exited with code {code}")
                return
            if self._accepts_connections():
                refused_since = None
                continue
            now = time.monotonic()
            refused_since = now if refused_since is None else refused_since
            if now - refused_since >= self._grace:
                refused_for = now - refused_since
                self._on_failure(f"{self._subject} refused connections for {refused_for:.0f} s")
                return
