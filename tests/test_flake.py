"""The flakiness comparator (tests/flake.py): changed clauses and leftover processes."""

import subprocess
import time

from tests.flake import changed_clauses, leftover_processes


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
    leader = subprocess.Popen(["sh", "-c", "sleep 30 & echo $!"], stdout=subprocess.PIPE,
                              text=True, start_new_session=True)
    orphan = int(leader.stdout.readline())
    leader.wait(timeout=10)
    try:
        assert [orphan] == [pid for pid, _ in leftover_processes(leader.pid)]
    finally:
        subprocess.run(["kill", "-9", str(orphan)], check=False)
    deadline = time.monotonic() + 10
    while leftover_processes(leader.pid) and time.monotonic() < deadline:
        time.sleep(0.05)

    assert [] == leftover_processes(leader.pid)
