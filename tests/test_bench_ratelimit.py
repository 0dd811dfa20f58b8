"""The rate-limit scenario of the benchmark (issue 6 §3): what the limit allows, how it is judged
and reported. Not timed; the scenario itself runs in ``python -m benchmarks``."""

from __future__ import annotations

import pytest

from benchmarks import _ratelimit, _report


def test_allowed_wall_fits_in_the_first_window() -> None:
    assert _ratelimit.allowed_wall(201, 300, 300, 2.0, 1.5) == 1.5


def test_allowed_wall_waits_for_each_window() -> None:
    # 100 now (1 s at 100/s), 100 at t=2, the last one at t=4
    assert _ratelimit.allowed_wall(201, 100, 100, 2.0, 2.01) == pytest.approx(4.01)
    # a small starting budget: 10 at once, 100 from t=2, 91 from t=4
    assert _ratelimit.allowed_wall(201, 10, 100, 2.0, 1.0) == pytest.approx(4 + 91 / 201)


def test_allowed_wall_never_below_the_unlimited_wall() -> None:
    # the server is slower than the limit: the limit costs nothing
    assert _ratelimit.allowed_wall(201, 100, 100, 2.0, 6.0) == pytest.approx(6.0)


def test_allowed_wall_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        _ratelimit.allowed_wall(0, 10, 10, 1.0, 1.0)
    with pytest.raises(ValueError):
        _ratelimit.allowed_wall(10, 10, 10, 0.0, 1.0)


def test_settings_validate() -> None:
    assert _ratelimit.RateLimitSettings(limit=150, window=2.5).spec == "150/2.5"
    with pytest.raises(ValueError):
        _ratelimit.RateLimitSettings(concurrency=(0,))


def _run(c: int, pace: bool, walls: list[float], allowed: float, n429: list[int]) -> dict:
    ratios = [w / allowed for w in walls]
    return {"concurrency": c, "pace": pace, "allowed": allowed, "errors": [],
            "samples": [{"requests": {"detect": 1, "list": 200, "token": 1}}],
            "wall": {"median": sorted(walls)[len(walls) // 2], "min": min(walls), "max": max(walls)},
            "ratio": {"median": sorted(ratios)[len(ratios) // 2], "min": min(ratios), "max": max(ratios)},
            "status_429": n429}


def _results(paced_walls: list[float], paced_429: list[int]) -> dict:
    return {"settings": {"records": 10000, "latency_ms": 20.0, "limit": 100, "window": 2.0,
                         "concurrency": [4], "repetitions": 3},
            "unlimited": {"4": {"wall": {"median": 1.0, "min": 1.0, "max": 1.1}, "core_requests": 201}},
            "runs": {"async c=4": _run(4, True, paced_walls, 4.0, paced_429),
                     "async c=4 pace=False": _run(4, False, [6.0, 6.1, 6.2], 4.0, [3, 4, 3])}}


def test_target_met_only_without_429s_and_within_ten_percent() -> None:
    assert _ratelimit.target_row(_results([4.2, 4.3, 4.1], [0, 0, 0]))["met"] is True
    assert _ratelimit.target_row(_results([4.2, 4.3, 4.1], [0, 1, 0]))["met"] is False
    assert _ratelimit.target_row(_results([4.5, 4.6, 4.7], [0, 0, 0]))["met"] is False  # 1.15×
    # unpaced runs are shown, not judged
    row = _ratelimit.target_row(_results([4.2, 4.3, 4.1], [0, 0, 0]))
    assert "pace=False" not in row["measured"] and "c=4: 0 × 429" in row["measured"]


def test_report_has_the_section_and_the_target() -> None:
    results = {"date": "2026-01-01", "machine": {"flame_hub": "x", "commit": "c", "python": "3", "httpx": "h",
                                                  "pydantic": "p", "platform": "linux", "cpus": 2},
               "settings": {"repetitions": 3, "page_size": 50, "gets": 0}, "configs": [],
               "ratelimit": _results([4.2, 4.3, 4.1], [0, 0, 0])}
    text = _report.markdown(results)
    assert "## Async listing under a rate limit (100 requests per 2 s window" in text
    assert "| async c=4 pace=False | 1.00 (1.00–1.10) | 6.10 (6.00–6.20) | 4.00 | 1.52× (1.50–1.55) | 3, 4, 3 |" in text
    assert [t for t in _report.targets(results) if t["target"] == "Async listing under a rate limit"][0]["met"]
