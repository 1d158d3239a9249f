"""Run the installed `edgepress` command in a subprocess, as a user would."""
import os
import subprocess
import sys


def edgepress(*args, cwd=None):
    """Returns (exit code, stdout, stderr)."""
    cmd = [sys.executable, "-m", "edgepress.cli", *map(str, args)]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, env={**os.environ, "PYTHONWARNINGS": "ignore"})
    return done.returncode, done.stdout, done.stderr


def assert_clean_failure(code, out, err, *expected):
    """One-line-style error: non-zero exit, 'error:' on stderr, no traceback, mentions what is expected."""
    assert code != 0, f"expected failure, got exit 0\n{out}"
    assert "Traceback" not in err and "Traceback" not in out, err
    assert err.startswith("error:") or "Error:" in err, err
    for text in expected:
        assert text in err, f"{text!r} not in {err!r}"
