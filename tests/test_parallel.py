"""Worker processes: the piped pipeline that makes a build's search requests."""

from __future__ import annotations

import operator
import subprocess
import sys
import textwrap

import pytest

from sitegen.parallel import piped_pipeline


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
        from sitegen.parallel import piped_pipeline
        print("main module ran", file=sys.stderr)
        print(sum(result for _, result in piped_pipeline(operator.add, 1, range(10), 2)))
    """), "utf-8")
    ran = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, check=True, timeout=60)
    assert ran.stdout.strip() == "55"
    assert ran.stderr.count("main module ran") == 1
