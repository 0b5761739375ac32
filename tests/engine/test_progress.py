import logging

from videoshift.engine.progress import Progress, format_seconds


def test_format_seconds():
    assert format_seconds(3725) == "1:02:05"
    assert format_seconds(-3) == "0:00:00"


def test_plain_log_lines_with_throughput_and_eta(caplog):
    caplog.set_level(logging.INFO, logger="videoshift.train")
    progress = Progress(total_steps=4, done_steps=0, log_every=2, interactive=False)
    for _ in range(4):
        progress.step(epoch=1, loss=0.5, lr=1e-3, clips=8)
    progress.close()
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2
    assert lines[0].startswith("step 2/4 epoch 1 loss 0.5000 lr 1.00e-03") and "clips/s eta" in lines[0]
    assert lines[1].startswith("step 4/4") and lines[1].endswith("eta 0:00:00")


def test_other_ranks_stay_silent(caplog):
    caplog.set_level(logging.INFO, logger="videoshift.train")
    progress = Progress(total_steps=2, enabled=False, log_every=1, interactive=False)
    progress.step(epoch=1, loss=0.5, lr=1e-3, clips=8)
    progress.message("hello")
    assert caplog.records == []
