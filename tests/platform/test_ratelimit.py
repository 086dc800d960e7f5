"""The in-process sliding window (kosh.platform.ratelimit), on a clock the test moves."""

from __future__ import annotations

from kosh.platform.ratelimit import SlidingWindow


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_limit_trips_and_the_window_slides():
    clock = Clock()
    window = SlidingWindow(limit=3, window=60, clock=clock)
    for _ in range(3):
        assert window.hit("a") == 0
        clock.now += 10
    assert window.hit("a") == 30  # the first hit (at 1000) leaves the window at 1060; now is 1030
    assert window.hit("b") == 0  # keys are counted apart
    clock.now = 1060.5
    assert window.wait("a") == 0 and window.hit("a") == 0
    assert window.hit("a") > 0


def test_a_refused_try_is_not_counted():
    clock = Clock()
    window = SlidingWindow(limit=1, window=100, clock=clock)
    assert window.hit("k") == 0
    for _ in range(5):
        clock.now += 10
        assert window.hit("k") > 0
    clock.now = 1100.0  # 100 s after the one counted hit, not after the refused ones
    assert window.hit("k") == 0


def test_memory_stays_bounded():
    clock = Clock()
    window = SlidingWindow(limit=1, window=10, clock=clock)
    window.MAX_KEYS = 50
    for n in range(500):
        window.hit(f"key-{n}")
        clock.now += 0.01
    assert len(window._hits) <= 50
