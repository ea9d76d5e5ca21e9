"""Worker processes: the piped pipeline that makes a build's search requests, and the forked
call that walks the output while a build reads its model."""

from __future__ import annotations

import operator
import os
import subprocess
import sys
import textwrap
import threading

import pytest

from sitegen.parallel import forked_call, piped_pipeline


def test_piped_pipeline_answers_each_task_in_order_while_tasks_are_made():
    drawn: list[int] = []

    def tasks():
        for number in range(40):
            drawn.append(number)
            yield number

    answers = []
    for task, result in piped_pipeline(operator.mul, 3, tasks(), 2):
        answers.append((task, result))
        assert len(drawn) <= task + 3  # one task ahead for each worker, no more
    assert answers == [(number, 3 * number) for number in range(40)]


def test_an_error_in_a_piped_worker_is_raised_in_the_caller():
    with pytest.raises(ZeroDivisionError):
        list(piped_pipeline(operator.truediv, 1, [2, 1, 0, 4], 2))


def test_piped_workers_do_not_run_the_callers_main_module(tmp_path):
    # multiprocessing's fresh ("spawn") workers import the main module: an unguarded script
    # that builds a site would start again in every worker
    script = tmp_path / "unguarded.py"
    script.write_text(textwrap.dedent("""
        import operator, sys
        from sitegen.parallel import forked_call, piped_pipeline
        print("main module ran", file=sys.stderr)
        print(sum(result for _, result in piped_pipeline(operator.add, 1, range(10), 2)))
    """), "utf-8")
    ran = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, check=True, timeout=60)
    assert ran.stdout.strip() == "55"
    assert ran.stderr.count("main module ran") == 1


def test_a_forked_call_is_computed_in_another_process_while_the_caller_goes_on(tmp_path):
    # in a Python of its own: a thread another test left running in this one (a browser's
    # driver) would make the call run in the caller's process, as it must then
    script = textwrap.dedent("""
        import os, sys, time
        from pathlib import Path
        from sitegen.parallel import forked_call

        def pid_and_square(number):
            return os.getpid(), number * number

        def note_pid_and_sleep(path):
            path.write_text(str(os.getpid()))
            time.sleep(600)

        def divide_by_zero(_):
            return 1 / 0

        with forked_call(pid_and_square, 12) as result:
            pid, square = result()
            assert result() == (pid, square)  # asked again: the same answer
        print("answer", square, pid != os.getpid())
        noted = Path(sys.argv[1])
        with forked_call(note_pid_and_sleep, noted):  # a child whose answer is not asked for is stopped
            while not noted.exists() or not noted.read_text():
                time.sleep(0.01)
        try:
            os.kill(int(noted.read_text()), 0)
        except ProcessLookupError:
            print("stopped and waited for")
        with forked_call(divide_by_zero, None) as answer:
            try:
                answer()
            except ZeroDivisionError:
                print("error raised here")
    """)
    ran = subprocess.run([sys.executable, "-c", script, str(tmp_path / "pid")], capture_output=True, text=True,
                         timeout=120)
    assert ran.stdout.split("\n")[:3] == ["answer 144 True", "stopped and waited for", "error raised here"], ran.stderr


def _pid_and_square(number: int) -> tuple[int, int]:
    return os.getpid(), number * number


def test_a_forked_call_is_computed_in_the_process_while_another_thread_runs():
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        with forked_call(_pid_and_square, 3) as result:
            assert result() == (os.getpid(), 9)
    finally:
        stop.set()
        thread.join()
