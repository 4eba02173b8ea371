"""fstest — small helpers shared by finsent's Python integration tests.

Each test case prints one line: "PASS name", "FAIL name: why" or "SKIP name: why"
(counted by tests/run.sh). Use:

    t = Suite()
    with t.case("crawl stores items") as c:
        c.check(n == 30, f"expected 30 items, got {n}")
    sys.exit(t.finish())
"""
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import traceback

ROOT = os.environ.get("FINSENT_ROOT") or os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
BIN = os.environ.get("FINSENT_BIN") or os.path.join(ROOT, "finsent")
PYTHON = "/usr/bin/python3"  # Debian's, with the Debian modules


class Report:
    """For tests written as a list of checks: report(ok, name, why) prints one
    PASS or FAIL line and counts the failures (exit code: report.exit_code())."""

    def __init__(self):
        self.failures = 0

    def __call__(self, ok, name, why=""):
        if ok:
            print(f"PASS {name}", flush=True)
        else:
            self.failures += 1
            print(f"FAIL {name}: {why}", flush=True)

    def exit_code(self):
        return 1 if self.failures else 0


class CaseFailed(Exception):
    pass


class CaseSkipped(Exception):
    pass


class Case:
    def check(self, cond, why):
        if not cond:
            raise CaseFailed(why)

    def skip(self, why):
        raise CaseSkipped(why)


class Suite:
    def __init__(self):
        self.failed = 0

    @contextlib.contextmanager
    def case(self, name):
        try:
            yield Case()
        except CaseSkipped as e:
            print(f"SKIP {name}: {e}", flush=True)
        except CaseFailed as e:
            self.failed += 1
            print(f"FAIL {name}: {e}", flush=True)
        except Exception as e:  # an unexpected error is a failure too
            self.failed += 1
            traceback.print_exc()
            print(f"FAIL {name}: {type(e).__name__}: {e}", flush=True)
        else:
            print(f"PASS {name}", flush=True)

    def finish(self):
        return 1 if self.failed else 0


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tempdir(prefix="finsent-it-"):
    d = tempfile.mkdtemp(prefix=prefix)
    return d


def finsent(args, env=None, timeout=300, input=None):
    """Runs ./finsent with args; returns CompletedProcess (text mode)."""
    e = dict(os.environ)
    if env:
        e.update(env)
    return subprocess.run([BIN] + list(args), capture_output=True, text=True, env=e,
                          timeout=timeout, input=input)


def one_line(stderr):
    """The last non-empty stderr line (the one-line reason of a failure)."""
    lines = [l for l in stderr.splitlines() if l.strip()]
    return lines[-1] if lines else ""


def have(cmd):
    return shutil.which(cmd) is not None
