import pytest
import torch


@pytest.fixture(autouse=True)
def one_thread():
    """One CPU thread for torch (and ONNX Runtime, which follows it here): tiny models on a shared CPU run
    up to ten times slower when their threads wait for each other."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
