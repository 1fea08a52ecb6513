"""Fork safety as documented: load after fork, or use the spawn start method; misuse raises ForkError."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

PYTHON_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(script: str) -> subprocess.CompletedProcess:
    """Run script in a fresh interpreter, so that this process's loaded library plays no part."""
    env = dict(os.environ, PYTHONPATH=PYTHON_DIR)
    return subprocess.run([sys.executable, "-c", textwrap.dedent(script)], env=env, capture_output=True, text=True, timeout=120)


def test_import_before_fork_use_in_child_works():
    r = run(
        """
        import os, hotpath
        pid = os.fork()
        if pid == 0:
            os._exit(0 if hotpath.count_unique(["a", "b", "a"]) == 2 else 1)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        assert hotpath.count_unique(["x", "x"]) == 1   # the parent loads its own afterwards
        print("ok")
        """
    )
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr


def test_use_before_fork_then_child_gets_fork_error():
    r = run(
        """
        import os, hotpath
        assert hotpath.count_unique(["a", "a"]) == 1      # loads the Go runtime in the parent
        pid = os.fork()
        if pid == 0:
            try:
                hotpath.count_unique(["a", "b"])
            except hotpath.ForkError as e:
                os._exit(42 if e.code == "fork" and isinstance(e, RuntimeError) else 1)
            os._exit(1)
        _, status = os.waitpid(pid, 0)
        print(os.waitstatus_to_exitcode(status))
        assert hotpath.count_unique(["a", "b"]) == 2       # the parent is unaffected
        """
    )
    assert r.returncode == 0 and r.stdout.strip() == "42", r.stderr


def test_spawn_pool_after_parent_used_hotpath():
    r = run(
        """
        import multiprocessing as mp, hotpath
        if __name__ == "__main__":
            assert hotpath.count_unique(["a", "a"]) == 1
            with mp.get_context("spawn").Pool(2) as pool:
                got = pool.map(hotpath.count_unique, [["a", "b"], ["c"] * 5, ["d", "e", "f"]])
            print(got)
        """
    )
    assert r.returncode == 0 and r.stdout.strip() == "[2, 1, 3]", r.stderr


def test_errors_survive_pickling_to_the_parent():
    r = run(
        """
        import multiprocessing as mp, hotpath
        if __name__ == "__main__":
            with mp.get_context("spawn").Pool(1) as pool:
                try:
                    pool.apply(hotpath.count_unique_file, ("/no/such/file.csv",))
                except hotpath.NotFoundError as e:
                    print(e.code, isinstance(e, FileNotFoundError))
        """
    )
    assert r.returncode == 0 and r.stdout.strip() == "not_found True", r.stderr
