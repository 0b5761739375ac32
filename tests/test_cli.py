import subprocess
import sys

from videoshift import __version__


def test_version_flag():
    out = subprocess.run([sys.executable, "-m", "videoshift", "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == f"videoshift {__version__}"
