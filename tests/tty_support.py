"""Running the usqlrw CLI in a real process with its standard error on a pseudo-terminal or a pipe,
for the tests of what it shows on a terminal (progress bars, live tables)."""
from __future__ import annotations

import os
import subprocess
import sys


def run_usqlrw(args, cwd, tty: bool, **env_extra):
    """usqlrw with its standard error on a pseudo-terminal (tty) or a pipe; returns (rc, stdout,
    stderr). ``env_extra`` adds to the environment (COLUMNS, LINES, ...); TERM is xterm and
    NO_COLOR/FORCE_COLOR are cleared."""
    import pty
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    env.update(TERM="xterm", **env_extra)
    cmd = [sys.executable, "-m", "usqlrw", *map(str, args)]
    if not tty:
        p = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
        return p.returncode, p.stdout, p.stderr
    master, slave = pty.openpty()
    p = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=slave, text=True)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:          # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    out = p.stdout.read()
    rc = p.wait(timeout=300)
    os.close(master)
    return rc, out, b"".join(chunks).decode()
