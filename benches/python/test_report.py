"""Unit tests of the pure helpers of report.py (percentiles, number formatting, the tables).
Run by tests/bench_support.rs, or: python -m unittest discover -s benches/python -p 'test_*.py'
"""

import json
import math
import statistics
import pathlib
import sys
import tempfile
import unittest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import report  # noqa: E402


class Percentile(unittest.TestCase):
    def test_nearest_rank(self):
        values = list(range(1, 101))  # 1..100
        self.assertEqual(report.percentile(values, 50), 50)
        self.assertEqual(report.percentile(values, 99), 99)
        self.assertEqual(report.percentile(values, 100), 100)
        self.assertEqual(report.percentile(values, 0), 1)

    def test_small_samples_round_up(self):
        # Nearest rank: the smallest value with at least p % of the samples at or below it.
        self.assertEqual(report.percentile([10, 20, 30], 50), 20)
        self.assertEqual(report.percentile([10, 20, 30], 99), 30)
        self.assertEqual(report.percentile([7], 99), 7)

    def test_empty_is_nan(self):
        self.assertTrue(math.isnan(report.percentile([], 50)))


class Formatting(unittest.TestCase):
    def test_rates(self):
        self.assertEqual(report.fmt_rate(12345.6), "12,346")
        self.assertEqual(report.fmt_rate(99.94), "99.9")
        self.assertEqual(report.spread([3.0, 1.0, 2.0]), "1.0 – 3.0")
        self.assertEqual(report.ratio_text([1.0, 2.0, 4.0]), "2.00×")

    def test_ms(self):
        self.assertEqual(report.fmt_ms(float("nan")), "–")
        self.assertEqual(report.fmt_ms(512.4), "512")


class Settings(unittest.TestCase):
    def test_defaults_are_not_shortened(self):
        self.assertEqual(report.shortened_settings(dict(report.DEFAULTS)), [])
        longer = dict(report.DEFAULTS, rounds=5, seconds=10)
        self.assertEqual(report.shortened_settings(longer), [])

    def test_a_quick_run_says_what_was_shortened(self):
        quick = dict(report.DEFAULTS, rounds=1, range_entries=5000)
        self.assertEqual(
            report.shortened_settings(quick),
            ["rounds 1 instead of 3", "range entries 5000 instead of 100000"],
        )


class Rounds(unittest.TestCase):
    def test_sorted_by_round_number_not_name(self):
        with tempfile.TemporaryDirectory() as d:
            d = pathlib.Path(d)
            for r in (10, 2, 1):
                (d / f"writes_rust_{r}.json").write_text(json.dumps({"round": r}))
            (d / "writes_rust_x.json").write_text("{}")
            self.assertEqual([x["round"] for x in report.rounds(d, "writes_rust")], [1, 2, 10])


def measured(rate, cpu=10.0):
    return {"rate": rate, "cpu_us": cpu}


class ThroughputTable(unittest.TestCase):
    def test_ratios_against_bare_of_the_same_round(self):
        rust = [
            {"client": {"1": measured(90)}, "bare": {"1": measured(100)}},
            {"client": {"1": measured(180)}, "bare": {"1": measured(200)}},
        ]
        python = [{"python": {"1": measured(10, 500)}}, {"python": {"1": measured(40, 500)}}]
        lines, summary = report.throughput_table(rust, python, [1], "writes/s", lambda c: "Python")
        self.assertAlmostEqual(summary["1"]["client_vs_bare"], 0.9)
        self.assertAlmostEqual(summary["1"]["python_vs_bare"], 0.15)  # median of 0.1 and 0.2
        self.assertAlmostEqual(summary["1"]["client_vs_python"], 6.75)  # median of 9 and 4.5
        self.assertEqual(len(lines), 2 + 3)
        header, rule, client, bare, py = lines
        self.assertEqual(header.count("|"), rule.count("|"))
        for row in (client, bare, py):
            self.assertEqual(row.count("|"), header.count("|"))
        self.assertIn("| this client | 1 | 135 | 90.0 – 180 | 0.90× | 10.0 µs |", client)
        self.assertIn("bare reqwest (baseline)", bare)
        self.assertIn("| 1 |", bare)
        self.assertIn("500.0 µs", py)


class ExactlyOnceTable(unittest.TestCase):
    def test_rates_against_plain_writes_and_requests_per_write(self):
        def with_requests(rate, requests):
            return {**measured(rate), "requests_per_op": requests}
        rust = [
            {"client": {"1": with_requests(100, 1.0)},
             "client_exactly_once": {"1": with_requests(90, 1.0)}},
            {"client": {"1": with_requests(200, 1.0)},
             "client_exactly_once": {"1": with_requests(200, 1.5)}},
        ]
        lines = report.exactly_once_table(rust, [1])
        self.assertEqual(len(lines), 3)
        header, rule, row = lines
        self.assertEqual(header.count("|"), rule.count("|"))
        self.assertEqual(row.count("|"), header.count("|"))
        # Medians: 145 writes/s, ratio of 0.9 and 1.0, 1.25 requests per write.
        self.assertIn("| 1 | 145 | 90.0 – 200 | 0.95× | 1.250 | 1.000 | 10.0 µs |", row)

    def test_the_javascript_client_gets_a_row_when_measured(self):
        rust = [{"client": {"1": measured(100)}, "bare": {"1": measured(200)}}]
        python = [{"python": {"1": measured(50)}}]
        label = lambda c: "Python, sequential"
        lines, _ = report.throughput_table(rust, python, [1], "writes/s", label)
        self.assertFalse(any("JavaScript" in line for line in lines))
        js = [{"js": {"1": measured(40)}}]
        lines, _ = report.throughput_table(rust, python, [1], "writes/s", label, js)
        row = [line for line in lines if "JavaScript" in line]
        self.assertEqual(len(row), 1)
        self.assertIn("| 1 | 40.0 |", row[0])
        self.assertIn("0.20×", row[0])

    def test_rounds_without_exactly_once_writes_give_no_table(self):
        rust = [{"client": {"1": measured(100)}, "bare": {"1": measured(100)}}]
        self.assertEqual(report.exactly_once_table(rust, [1]), [])


class LatencyRows(unittest.TestCase):
    def test_percentiles_and_polls(self):
        def samples(ms, polls):
            return [[m, polls] for m in ms]

        rust = {
            "client_default": samples(range(1, 101), 3),
            "client_fixed_500ms": samples([500] * 10, 2),
            "bare_fixed_500ms": samples([1000] * 4, 2),
            "bare_poll_10ms": [],
        }
        python = {"python_begin_create": [600.0, 1100.0], "python_mean_polls": 2.5}
        stats = {s["label"]: s for s in report.latency_rows(rust, python)}
        default = stats["this client, default (commit watcher)"]
        self.assertEqual((default["n"], default["p50"], default["p99"]), (100, 50, 99))
        self.assertEqual(default["polls"], 3)
        # With the watcher's own count, polls per write are its stream over the writes.
        rust["client_default_status_polls"] = 25
        stats = {s["label"]: s for s in report.latency_rows(rust, python)}
        self.assertEqual(stats["this client, default (commit watcher)"]["polls"], 0.25)
        self.assertEqual(stats["this client, fixed 0.5 s poll"]["polls"], 2)
        py = stats["Python `begin_create_ledger_entry(...).result()`"]
        self.assertEqual((py["n"], py["p50"], py["p99"], py["polls"]), (2, 600.0, 1100.0, 2.5))
        empty = stats["reference: bare reqwest, 10 ms poll"]
        self.assertEqual(empty["n"], 0)
        self.assertTrue(math.isnan(empty["p50"]))


def committed_round(plain, committed, requests=1.2, cpu=30.0, mean=600.0, p99=1000.0):
    return {"committed_writes": {
        "in_flight": 64,
        "plain": measured(plain),
        "committed": {**measured(committed, cpu), "requests_per_op": requests,
                      "latency_ms": {"mean": mean, "p50": mean, "p99": p99}},
    }}


class CommittedTable(unittest.TestCase):
    def test_a_row_per_signature_setting_with_ratios_of_the_same_round(self):
        slow = [committed_round(1000, 950), committed_round(2000, 1000)]
        fast = [committed_round(1000, 990, mean=80.0, p99=150.0)]
        lines = report.committed_table([("1 s", slow), ("100 ms", fast), ("none", [{}])])
        self.assertEqual(len(lines), 4)
        header, rule, one, two = lines
        for row in (rule, one, two):
            self.assertEqual(row.count("|"), header.count("|"))
        # Medians: 1,500 plain and 975 committed writes/s; ratios 0.95 and 0.5.
        self.assertIn("| 1 s | 64 | 1,500 | 975 | 950 – 1,000 | 0.72× | 1.20 | 30.0 µs | 600 / 1000 ms |", one)
        self.assertIn("| 100 ms | 64 | 1,000 | 990 |", two)
        self.assertIn("80 / 150 ms", two)
        self.assertAlmostEqual(report.committed_ratio(slow), 0.725)
        self.assertTrue(math.isnan(report.committed_ratio([{}])))

    def test_a_round_is_the_mean_of_its_windows_of_each_kind(self):
        turns = committed_round(1000, 900)
        turns["committed_writes"]["plain"] = [measured(1000), measured(800), measured(900)]
        committed = turns["committed_writes"]["committed"]
        turns["committed_writes"]["committed"] = [
            committed, {**committed, **measured(700, 50.0), "latency_ms": {"mean": 400.0, "p99": 800.0}}]
        # Plain 900, committed 800 writes/s: 0.89×.
        self.assertAlmostEqual(report.committed_ratio([turns]), 800 / 900)
        line = report.committed_table([("1 s", [turns])])[2]
        self.assertIn("| 1 s | 64 | 900 | 800 |", line)
        self.assertIn("| 0.89× |", line)
        self.assertIn("| 40.0 µs | 500 / 900 ms |", line)

    def test_no_measurement_gives_no_table(self):
        self.assertEqual(report.committed_table([("1 s", [{}])]), [])


class Targets(unittest.TestCase):
    def stats(self, watcher_ms, reference_ms, watcher_polls):
        rust = {
            "client_default": [[m, 1] for m in watcher_ms],
            "client_fixed_500ms": [[500, 2]],
            "bare_fixed_500ms": [[500, 2]],
            "bare_poll_10ms": [[m, 50] for m in reference_ms],
            "client_default_status_polls": watcher_polls,
        }
        return report.latency_rows(rust)

    def test_the_watcher_is_held_to_the_reference_and_the_poll_budget(self):
        reference = [500.0] * 99 + [990.0]
        close = self.stats([515.0] * 99 + [1015.0], reference, 50)  # 100 writes, 0.5 polls each
        t = report.watcher_against_reference(close, 1.0)
        self.assertAlmostEqual(t["mean_diff"], 15.1)
        self.assertAlmostEqual(t["p99_diff"], 15.0)
        self.assertEqual((t["polls"], t["met"]), (0.5, True))
        self.assertFalse(report.watcher_against_reference(close, 0.25)["met"], "too many polls")
        self.assertTrue(report.watcher_against_reference(close, None)["met"], "polls only reported")
        late = self.stats([530.0] * 100, reference, 10)
        self.assertFalse(report.watcher_against_reference(late, 1.0)["met"], "mean 25.5 ms behind")
        tail = self.stats([500.0] * 98 + [1100.0] * 2, reference, 10)
        self.assertFalse(report.watcher_against_reference(tail, 1.0)["met"], "p99 110 ms behind")

    def test_without_python_the_latency_rows_leave_it_out(self):
        labels = [s["label"] for s in self.stats([500.0], [500.0], 1)]
        self.assertFalse(any("Python" in label for label in labels))
        self.assertEqual(len(labels), 4)

    def test_the_runs_the_script_makes(self):
        settings = {"signature_interval_ms": 1000, "fast_signature_interval_ms": 100,
                    "latency_writers": 16, "latency_writers_many": 64}
        names = report.latency_run_names(settings)
        self.assertEqual([n[3] for n in names], [
            "latency_rust", "latency_rust_w64", "latency_rust_fast", "latency_rust_fast_w64"])
        self.assertEqual(names[0][0], "1 s signatures, 16 writers")
        self.assertEqual(names[3][0], "100 ms signatures, 64 writers")
        # A results directory of an older run: one latency run.
        old = {"signature_interval_ms": 1000, "latency_writers": 16}
        self.assertEqual([n[3] for n in report.latency_run_names(old)], ["latency_rust"])
        lines = report.targets_table([
            {"label": "1 s signatures, 16 writers", "stats": self.stats([500.0], [490.0], 1), "polls_target": 1.0},
        ])
        self.assertEqual(len(lines), 3)
        self.assertIn("| 1 s signatures, 16 writers | +10.0 ms | 0.0 ms | +10.0 ms | 1.000 | ≤ 1.00 | yes | — |", lines[2])

    def test_with_a_commit_log_the_watcher_is_compared_write_by_write(self):
        rust = {
            "client_default": [[500.0, 1], [900.0, 1]],
            "client_fixed_500ms": [[500, 2]],
            "bare_fixed_500ms": [[500, 2]],
            "bare_poll_10ms": [[300.0, 50], [700.0, 50]],
            "client_default_status_polls": 1,
            "excess_ms": {
                "client_default": [8.0, 12.0],
                "client_fixed_500ms": [250.0],
                "bare_fixed_500ms": [240.0],
                "bare_poll_10ms": [5.0, 7.0],
            },
        }
        stats = report.latency_rows(rust)
        t = report.watcher_against_reference(stats, 1.0)
        self.assertAlmostEqual(t["mean_diff"], 200.0)
        self.assertAlmostEqual(t["excess_diff"], 4.0)
        self.assertAlmostEqual(t["excess_noise"], 2 * math.sqrt(4.0 / 2 + 1.0 / 2))
        lines = report.targets_table([{"label": "run", "stats": stats, "polls_target": 1.0}])
        self.assertTrue(lines[2].endswith("| **no** | +4.0 ± 3.2 ms |"), lines[2])

    def test_the_noise_of_the_mean_difference_is_given(self):
        # 100 writes each, spread 0..990 ms (sd ~289 ms): two standard errors ~82 ms.
        spread = [float(10 * i) for i in range(100)]
        t = report.watcher_against_reference(self.stats(spread, spread, 10), 1.0)
        self.assertAlmostEqual(t["mean_diff"], 0.0)
        self.assertAlmostEqual(t["noise"], 2 * math.sqrt(2 * statistics.pvariance(spread) / 100))
        self.assertGreater(t["noise"], 80)


if __name__ == "__main__":
    unittest.main()
