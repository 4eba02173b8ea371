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


def ci():
    """True under CI=true (or CI=1), where a missing dependency is a failure."""
    return os.environ.get("CI", "") in ("true", "1")


def missing_line(name, what):
    """The line for a case that cannot run because `what`, which `make deps`
    installs, is missing: SKIP on a developer's machine, FAIL under CI=true
    (tests/run.sh applies the same rule to every SKIP that says "missing
    dependency")."""
    if ci():
        return f"FAIL {name}: missing dependency: {what} (CI=true: 'make deps' installs it)"
    return f"SKIP {name}: missing dependency: {what} (make deps)"


class CaseSkipped(Exception):
    pass


class Case:
    def check(self, cond, why):
        if not cond:
            raise CaseFailed(why)

    def skip(self, why):
        raise CaseSkipped(why)

    def missing(self, what):
        """Leaves the case for lack of a dependency `make deps` installs: a
        skip, or under CI=true a failure."""
        if ci():
            raise CaseFailed(f"missing dependency: {what} (CI=true: 'make deps' installs it)")
        raise CaseSkipped(f"missing dependency: {what} (make deps)")


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
