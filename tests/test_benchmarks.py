"""The benchmark's plumbing: what it measures, how it summarises and when it fails.

No test here asserts on a time: the targets are checked by ``python -m benchmarks``.
"""

import json

import pytest

from benchmarks import __main__ as bench_main
from benchmarks import overhead, report, suite


def _samples(raw, reference):
    return {"raw": {"wall": raw, "cpu": raw}, "reference": {"wall": reference, "cpu": reference}}


@pytest.fixture(scope="module")
def measured():
    return overhead.measure_overhead(steps=20, repeats=2, targets=("reference", "lightning"))


def test_overhead_measures_every_variant_once_per_repeat(measured):
    variants = ["raw", "raw+hooks", "reference", "reference+log", "lightning", "lightning+log"]

    assert variants == list(measured["variants"])
    assert all(len(stats["wall_us_per_step"]) == 2 for stats in measured["variants"].values())
    assert all(len(stats["cpu_us_per_step"]) == 2 for stats in measured["variants"].values())
    assert {} == measured["unavailable"]


def test_overhead_ratios_are_medians_over_the_raw_median(measured):
    variants = measured["variants"]
    raw = variants["raw"]["median_us"]

    for name, ratio in measured["ratios"].items():
        assert round(variants[name]["median_us"] / raw, 3) == ratio["wall"]


def test_overhead_records_its_settings(measured):
    settings = measured["settings"]

    assert (20, 2, 2) == (settings["steps"], settings["repeats"], settings["batch_size"])
    assert {"reference", "lightning"} == set(settings["targets"])
    assert settings["trainer_settings"]["logger"] is False
    assert settings["trainer_settings"]["enable_checkpointing"] is False


def test_overhead_lists_a_target_that_cannot_load_as_unavailable():
    result = overhead.measure_overhead(steps=5, repeats=1, targets=("no_such_target",))

    assert ["raw", "raw+hooks"] == list(result["variants"])
    assert "no_such_target" in result["unavailable"]


def test_summarise_takes_median_spread_and_ratio_from_the_samples():
    summary = overhead.summarise(_samples([100.0, 110.0, 90.0], [150.0, 120.0, 130.0]), {})

    assert 100.0 == summary["variants"]["raw"]["median_us"]
    assert 20.0 == summary["variants"]["raw"]["spread_pct"]
    assert {"wall": 1.3, "cpu": 1.3} == summary["ratios"]["reference"]


def test_a_met_target_is_reported_as_met():
    results = {"overhead": overhead.summarise(_samples([100.0], [110.0]), {})}

    (check,) = report.check_targets(results)

    assert (True, 1.1) == (check["met"], check["value"])


def test_a_missed_target_names_itself_and_its_margin():
    results = {
        "overhead": overhead.summarise(_samples([100.0], [150.0]), {}),
        "suite": {"reference": {"wall_s": 75.0}, "lightning": {"skipped": "not installed"}},
        "matrix": {"wall_s": None, "note": "not measured"},
    }

    messages = [check["message"] for check in report.check_targets(results)]

    assert [
        "MISSED reference step overhead: 1.5x > 1.2x (over by 0.30x, 25%)",
        "MISSED CPU suite on reference: 75 s > 60 s (over by 15.00 s, 25%)",
    ] == messages


def test_main_writes_json_and_exits_1_on_a_missed_target(monkeypatch, tmp_path, capsys):
    summary = overhead.summarise(_samples([100.0], [130.0]), {"steps": 1})
    monkeypatch.setattr(overhead, "measure_overhead", lambda *args, **kwargs: summary)
    monkeypatch.setattr(report, "render", lambda results: "table")
    path = tmp_path / "bench.json"

    code = bench_main.main(["--skip-suite", "--json", str(path)])

    written = json.loads(path.read_text())
    assert 1 == code
    assert 1.3 == written["overhead"]["ratios"]["reference"]["wall"]
    assert [False] == [check["met"] for check in written["targets"]]
    assert "table" in capsys.readouterr().out


def test_matrix_time_says_not_measured_without_a_timing_file(tmp_path):
    assert suite.matrix_time(tmp_path)["note"].startswith("not measured: run nox -s matrix")


def test_matrix_time_reads_the_timing_file(tmp_path):
    (tmp_path / suite.MATRIX_TIMING).write_text(json.dumps({"elapsed_s": 412.5}))

    assert 412.5 == suite.matrix_time(tmp_path)["wall_s"]


def test_the_timing_plugin_sums_tests_by_clause_area(pytester, monkeypatch, tmp_path):
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.clause("HOOK-001")
        def test_a(): pass

        @pytest.mark.clause("HOOK-002")
        def test_b(): pass

        @pytest.mark.clause("LOG-001")
        def test_c(): pass

        def test_d(): pass
        """
    )
    path = tmp_path / "timings.json"
    monkeypatch.setenv("LCK_BENCH_TIMINGS", str(path))

    pytester.runpytest("-p", "benchmarks._timing", "-p", "no:randomly").assert_outcomes(passed=4)

    timings = json.loads(path.read_text())
    assert {"HOOK": 2, "LOG": 1, "other": 1} == timings["tests"]
    assert {"HOOK", "LOG", "other"} == set(timings["areas"])
