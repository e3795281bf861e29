"""bin/supervise, which `make run` (bin/run) puts each process under: a process that ends is started again, with
a growing pause, the others untouched; SIGTERM stops the process and the supervisor."""

import os
import signal
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def wait_for(predicate, timeout: float):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("not reached in time")


def test_a_process_that_dies_is_started_again_and_sigterm_stops_everything(tmp_path):
    starts = tmp_path / "starts"
    pids = tmp_path / "pids"
    # Appends a line per start and its pid, then lives until killed.
    program = f'echo start >> {starts}; echo $$ >> {pids}; exec sleep 600'
    supervisor = subprocess.Popen([str(ROOT / "bin" / "supervise"), "worker", "bash", "-c", program],
                                  stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: starts.exists() and starts.read_text().count("start") == 1, 10)
        first = int(pids.read_text().split()[0])
        os.kill(first, signal.SIGKILL)  # as the OOM killer or a crash would
        wait_for(lambda: starts.read_text().count("start") == 2, 10)
        second = int(pids.read_text().split()[1])
        os.kill(second, signal.SIGKILL)
        wait_for(lambda: starts.read_text().count("start") == 3, 10)
        third = int(pids.read_text().split()[2])
        assert supervisor.poll() is None

        supervisor.send_signal(signal.SIGTERM)
        assert supervisor.wait(10) == 0
        wait_for(lambda: not Path(f"/proc/{third}").exists() or "zombie" in Path(f"/proc/{third}/status").read_text().lower(), 10)
        log = supervisor.stderr.read()
        assert "worker exited" in log and "starting it again in 1 s" in log and "starting it again in 2 s" in log
    finally:
        if supervisor.poll() is None:
            supervisor.kill()
