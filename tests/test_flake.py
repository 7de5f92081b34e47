"""The flakiness comparator (tests/flake.py): changed clauses and leftover processes."""

import os
import signal
import subprocess
import time

from tests.flake import changed_clauses, leftover_processes

GENEROUS = 600  # seconds: the bound on a wait for an event that comes at once when all is well


def _run(seed, **statuses):
    return {"seed": seed, "statuses": {"reference": statuses}}


def test_a_clause_whose_status_changes_is_listed_with_the_seeds_of_each_status():
    runs = [_run(1, **{"LOG-001": "passed"}), _run(2, **{"LOG-001": "failed"}),
            _run(3, **{"LOG-001": "passed"})]

    assert ["LOG-001 on reference: failed with seeds [2]; passed with seeds [1, 3]"] == \
        changed_clauses(runs)


def test_clauses_with_one_status_in_every_run_are_not_listed():
    runs = [_run(seed, **{"LOG-001": "passed", "DEV-018": "skipped"}) for seed in (1, 2)]

    assert [] == changed_clauses(runs)


def test_a_clause_missing_from_a_run_counts_as_changed():
    runs = [_run(1, **{"LOG-001": "passed"}), _run(2)]

    assert ["LOG-001 on reference: absent with seeds [2]; passed with seeds [1]"] == \
        changed_clauses(runs)


def test_a_process_left_in_the_session_of_a_finished_run_is_found():
    # the orphan lives until it is killed, so that no load can end it before it is looked for
    leader = subprocess.Popen(["sh", "-c", "sleep infinity & echo $!"], stdout=subprocess.PIPE,
                              text=True, start_new_session=True)
    orphan = int(leader.stdout.readline())
    try:
        leader.wait(timeout=GENEROUS)
        found = [pid for pid, _ in leftover_processes(leader.pid)]
    finally:
        os.kill(orphan, signal.SIGKILL)
    deadline = time.monotonic() + GENEROUS  # bounds the wait for its end, met at once
    while leftover_processes(leader.pid) and time.monotonic() < deadline:
        time.sleep(0.05)

    assert [orphan] == found
    assert [] == leftover_processes(leader.pid)
