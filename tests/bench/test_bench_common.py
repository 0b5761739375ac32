"""The one timing helper of every benchmark: candidates take turns, warm-up rounds first."""

import pytest

from videoshift.bench.common import time_callable, time_in_turns, torch_threads


def test_candidates_take_turns_after_warmup_rounds():
    log = []
    calls = [lambda: log.append("a"), lambda: log.append("b")]
    timings = time_in_turns(calls, warmup=1, repeats=2)
    assert log == ["a", "b"] * 3
    assert [t.repeats for t in timings] == [2, 2]
    assert all(t.min_ms <= t.median_ms <= t.max_ms for t in timings)


def test_untimed_calls_precede_each_timed_call():
    log = []
    time_in_turns([lambda: log.append("a"), lambda: log.append("b")], warmup=0, repeats=2, untimed_before_each=1)
    assert log == ["a", "a", "b", "b"] * 2


def test_one_candidate_and_bad_repeats():
    count = []
    assert time_callable(lambda: count.append(1), warmup=2, repeats=3).repeats == 3
    assert len(count) == 5
    with pytest.raises(ValueError, match="repeats must be >= 1"):
        time_in_turns([lambda: None], repeats=0)


def test_torch_threads_restores():
    import torch

    before = torch.get_num_threads()
    with torch_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
