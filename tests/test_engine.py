"""The public, general batch engine: any records, per-item isolation, retries, resume, events."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from snake_pipe.batching import BatchEngine
from snake_pipe.errors import ConfigError
from snake_pipe.events import EventLog


def double(x: int) -> int:
    if x % 100 == 13:
        raise ValueError(f"unlucky {x}")
    return 2 * x


def fail_batches_with_7(items: list[int]) -> list[int]:
    if 7 in items:
        raise RuntimeError("batch with 7")
    return items


def slow_double(x: int) -> int:
    time.sleep(0.02)
    return 2 * x


def slow_zero(x: int) -> int:
    if x == 0:
        time.sleep(1.0)
    return x


FLAKY = Path("/tmp/snake-pipe-test-flaky")


def flaky_once(items: list[int]) -> list[int]:
    marker = FLAKY / f"{items[0]}"
    if not marker.exists():
        marker.touch()
        raise OSError("transient")
    return items


def test_per_item_isolation_and_report_on_a_process_pool() -> None:
    results: dict[int, int] = {}
    errors: dict[int, str] = {}
    engine = BatchEngine.for_items(double, batch_size=100, workers=2)
    report = engine.execute(range(1000), on_result=results.__setitem__, on_error=errors.__setitem__)
    assert report.status == "completed" and report.items_processed == 1000
    assert report.items_failed == 10 and sorted(errors) == [i for i in range(1000) if i % 100 == 13]
    assert errors[13] == "ValueError: unlucky 13" and results[21] == 42
    assert len(report.batches) == 10
    batch = report.batches[0]
    assert (batch.status, batch.records, batch.success, batch.failed) == ("completed", 100, 99, 1)


def test_checkpoints_and_resume_from(tmp_path: Path) -> None:
    cp = tmp_path / "cp.json"
    seen: list[int] = []
    engine = BatchEngine.for_items(double, executor="inline", batch_size=10)
    report = engine.execute(range(95), on_result=lambda i, _: seen.append(i), checkpoint_path=cp,
                            checkpoint_frequency=3)  # fmt: skip
    assert [c.batch_number for c in report.checkpoints] == [3, 6, 9, 10]  # and at the end
    assert report.batches[2].checkpoint_id == report.checkpoints[0].id
    assert json.loads(cp.read_text().splitlines()[-1])["items_processed"] == 95
    again: list[int] = []
    engine = BatchEngine.for_items(double, executor="inline", batch_size=10)
    report = engine.execute(range(95), on_result=lambda i, _: again.append(i),
                            checkpoint_path=cp, resume_from="latest")  # fmt: skip
    assert report.resumed_from_item == 95 and again == []  # a finished run redoes nothing
    engine = BatchEngine.for_items(double, executor="inline", batch_size=10)
    report = engine.execute(range(95), on_result=lambda i, _: again.append(i),
                            checkpoint_path=cp, resume_from=9)  # fmt: skip
    assert report.resumed_from_item == 90 and again == [90, 91, 92, 93, 94]
    assert report.checkpoints[-1].batch_number == 10
    only_end = tmp_path / "end.json"
    engine = BatchEngine.for_items(double, executor="inline", batch_size=10)
    report = engine.execute(range(95), checkpoint_path=only_end, checkpoint_frequency=0)
    assert [(c.batch_number, c.items_processed) for c in report.checkpoints] == [(10, 95)]
    by_number = BatchEngine.for_items(double, executor="inline", batch_size=10)
    assert by_number.execute(range(95), checkpoint_path=cp, resume_from=6).resumed_from_item == 60
    with pytest.raises(ConfigError, match="resume_from: 'nope' is not a checkpoint"):
        BatchEngine.for_items(double, executor="inline").execute(
            [], checkpoint_path=cp, resume_from="nope"
        )


def test_checkpoints_cover_only_batches_done_when_they_finish_out_of_order(tmp_path: Path) -> None:
    """The first batch is slow, the others finish before it: no checkpoint covers a batch not
    done yet, none is empty, and the one due is written as soon as the first batch is done."""
    engine = BatchEngine.for_items(slow_zero, batch_size=10, workers=2)
    report = engine.execute(range(60), checkpoint_path=tmp_path / "cp.json", checkpoint_frequency=2)
    assert report.status == "completed" and report.items_processed == 60
    finished = [b.number for b in report.batches]
    assert finished[0] != 1  # the slow batch was overtaken
    assert report.checkpoints and all(c.items_processed > 0 for c in report.checkpoints)
    for checkpoint in report.checkpoints:
        written = next(i for i, b in enumerate(report.batches) if b.checkpoint_id == checkpoint.id)
        assert set(range(1, checkpoint.batch_number + 1)) <= set(finished[: written + 1])
        assert checkpoint.items_processed == 10 * checkpoint.batch_number
    first_done = finished.index(1)
    assert report.batches[first_done].checkpoint_id == report.checkpoints[0].id


def test_on_batch_error_continue_stop_and_retry(tmp_path: Path) -> None:
    def engine() -> BatchEngine[object, object]:
        return BatchEngine.for_items(fail_batches_with_7, whole_batches=True, executor="inline",
                                     batch_size=5, max_retries_per_batch=2, initial_backoff_ms=1)  # fmt: skip

    report = engine().execute(range(30))
    failed = [b for b in report.batches if b.status == "failed"]
    assert report.status == "partial" and len(failed) == 1 and failed[0].attempts == 3
    assert report.items_succeeded == 25
    no_retry = BatchEngine.for_items(fail_batches_with_7, whole_batches=True, executor="inline",
                                     batch_size=5, max_retries_per_batch=0, parallel_batches=1)  # fmt: skip
    stopped = no_retry.execute(range(30), on_batch_error="stop")
    assert stopped.status == "failed" and stopped.items_processed == 10
    FLAKY.mkdir(exist_ok=True)
    for marker in FLAKY.iterdir():
        marker.unlink()
    retried = BatchEngine.for_items(flaky_once, whole_batches=True, executor="inline", batch_size=5,
                                    max_retries_per_batch=0, initial_backoff_ms=1)  # fmt: skip
    report = retried.execute(range(20), on_batch_error="retry")
    assert report.status == "completed" and all(b.attempts == 2 for b in report.batches)
    assert retried.backoff.max_retries == 0  # "retry" holds for that call only

    def stop(item: object, result: object) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):  # however the call ends
        retried.execute(range(20), on_result=stop, on_batch_error="retry")
    assert retried.backoff.max_retries == 0


def test_events_to_callbacks_and_file(tmp_path: Path) -> None:
    got: list[str] = []
    log = EventLog(tmp_path / "events.jsonl")
    engine = BatchEngine.for_items(double, executor="inline", batch_size=50)
    engine.execute(
        range(100), checkpoint_path=tmp_path / "cp.json", events=[lambda e: got.append(e.name), log]
    )
    log.close()
    assert got.count("BatchExecuted") == 2 and got.count("CheckpointCreated") == 2
    lines = [json.loads(line) for line in (tmp_path / "events.jsonl").read_text().splitlines()]
    assert lines[0]["event"] == "BatchExecuted" and lines[0]["records"] == 50


def kill_on_7(x: int) -> int:
    if x == 7:
        os._exit(9)  # the worker dies: the batch is split until 7 is alone
    return x


def test_a_split_batch_counts_as_done_only_when_all_its_parts_are(tmp_path: Path) -> None:
    """A crash splits a batch into parts with its number: a checkpoint after the first part
    would let a resume skip the others, whose items would reach neither callback."""
    cp = tmp_path / "cp.jsonl"
    seen: set[int] = set()

    def stop_at_5(item: int, _value: object) -> None:
        seen.add(item)
        if item == 5:
            raise KeyboardInterrupt  # the run ends between the parts of batch 1

    engine = BatchEngine.for_items(kill_on_7, batch_size=10, workers=1, parallel_batches=1)
    with pytest.raises(KeyboardInterrupt):
        engine.execute(range(20), on_result=stop_at_5, on_error=lambda i, _: seen.add(i),
                       checkpoint_path=cp, resume_from="latest")  # fmt: skip
    engine = BatchEngine.for_items(kill_on_7, batch_size=10, workers=1, parallel_batches=1)
    report = engine.execute(range(20), on_result=lambda i, _: seen.add(i),
                            on_error=lambda i, _: seen.add(i), checkpoint_path=cp,
                            resume_from="latest")  # fmt: skip
    assert seen == set(range(20)) and report.items_failed == 1
    parts = [b for b in report.batches if b.number == 1]
    assert len(parts) > 1 and sum(b.records for b in parts) == 10


def test_an_engine_runs_again_and_numbers_on_after_a_resume(tmp_path: Path) -> None:
    """Each execute numbers its batches from 1, or after the batch it resumes from, as its
    checkpoints do: a number from the report or an event is a valid resume_from."""
    engine = BatchEngine.for_items(double, executor="inline", batch_size=10)
    first = engine.execute(range(30), checkpoint_path=tmp_path / "a.jsonl")
    again = engine.execute(range(30), checkpoint_path=tmp_path / "b.jsonl")
    for report in (first, again):
        assert [b.number for b in report.batches] == [1, 2, 3]
        assert [c.batch_number for c in report.checkpoints] == [1, 2, 3]
    seen: list[object] = []
    resumed = engine.execute(range(50), checkpoint_path=tmp_path / "b.jsonl",
                             resume_from="latest", events=[seen.append])  # fmt: skip
    assert [b.number for b in resumed.batches] == [4, 5]
    assert [(c.id, c.batch_number) for c in resumed.checkpoints] == [("cp-4-40", 4), ("cp-5-50", 5)]
    numbers = [(type(e).__name__, e.batch_number) for e in seen if hasattr(e, "batch_number")]
    assert numbers == [("BatchExecuted", 4), ("CheckpointCreated", 4),
                       ("BatchExecuted", 5), ("CheckpointCreated", 5)]  # fmt: skip


def test_batch_size_bounds() -> None:
    with pytest.raises(ConfigError, match="batch_size: 20000 is not allowed"):
        BatchEngine.for_items(double, batch_size=20_000)
    report = BatchEngine.for_items(double, executor="inline", batch_size=1).execute(range(3))
    assert len(report.batches) == 3


def test_bad_parameters_are_one_line_errors_not_dropped_items() -> None:
    for options, message in (
        ({"workers": -1}, "workers: -1 is not allowed"),
        ({"workers": 0}, "workers: 0 is not allowed"),
        ({"parallel_batches": 0}, "parallel_batches: 0 is not allowed"),
        ({"batch_size": "auto", "min_batch_size": 0}, "use 1 <= min <= max <= 10000"),
        ({"batch_size": "auto", "max_batch_size": 0}, "use 1 <= min <= max <= 10000"),
        ({"batch_size": "big"}, "batch_size: 'big' is not allowed"),
    ):
        with pytest.raises(ConfigError, match=message):
            BatchEngine.for_items(double, executor="inline", **options)  # type: ignore[arg-type]
    engine = BatchEngine.for_items(double, executor="inline")
    with pytest.raises(ConfigError, match="on_batch_error: 'ignore' is not allowed"):
        engine.execute([1], on_batch_error="ignore")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="checkpoint_frequency: -1 is not allowed"):
        engine.execute([1], checkpoint_frequency=-1)
    with pytest.raises(ConfigError, match="cannot be sent to worker processes"):
        BatchEngine.for_items(lambda x: x, workers=1)  # a lambda does not pickle
    for options, message in (
        ({"executor": "threads"}, "executor: 'threads' is not allowed"),
        ({"max_retries_per_batch": -1}, "max_retries_per_batch: -1 is not allowed"),
        ({"target_batch_seconds": 0}, "target_batch_seconds: 0 is not allowed"),
        ({"initial_backoff_ms": "x"}, "initial_backoff_ms: 'x' is not allowed"),
    ):
        with pytest.raises(ConfigError, match=message):
            BatchEngine.for_items(double, **options)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="fn: 42 is not callable"):
        BatchEngine.for_items(42)  # type: ignore[arg-type]
    done: list[int] = []
    for call, message in (
        ({"items": None}, "items: None is not iterable"),
        ({"events": print}, "events: .* pass a list of handlers, \\[print\\]"),
        ({"resume_from": -2, "checkpoint_path": "cp"}, "resume_from: -2 is not allowed"),
        ({"memory_limit_mb": "x"}, "memory_limit_mb: 'x' is not allowed"),
        ({"on_result": 3}, "on_result: 3 is not callable"),
    ):
        with pytest.raises(ConfigError, match=message):
            engine.execute(call.pop("items", [1]), on_error=lambda i, _: done.append(i),
                           **call)  # type: ignore[arg-type]
    assert done == []  # refused before any item ran


def test_a_slow_consumer_is_no_batch_timeout() -> None:
    """Time spent by the caller between results (an embedding call per record, say) is not
    the workers': a batch that finished meanwhile is not "overdue", so no pool is killed."""
    engine = BatchEngine.for_items(slow_double, batch_size=10, workers=1, parallel_batches=2)
    engine.batch_timeout_s = 0.8  # each batch takes 0.2 s of sleep
    outcomes = []
    with engine:
        engine.executor.submit(int).result()  # the pool is up: its start is not the test
        for outcome in engine.run_iter(range(40)):
            time.sleep(1.0)  # the next batch finishes meanwhile, submitted 1 s ago
            outcomes.append(outcome)
    assert [o.attempts for o in outcomes] == [1] * 4 and engine.pools_started == 1


@pytest.mark.parametrize("call", [
    "import snake_pipe\nfor r in snake_pipe.extract(REPO, workers=2):\n    print(r.path)\n",
    "from snake_pipe import BatchEngine\ndef f(x):\n    return x\n"
    "BatchEngine.for_items(f, batch_size=10, workers=2).execute(range(100))\n",
])  # fmt: skip
def test_a_script_without_its_main_guard_gets_one_clear_error(tmp_path: Path, call: str) -> None:
    """Its workers import it and start snake-pipe again: that was 15 tracebacks and 13 pool
    restarts before a hint at the end."""
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "a.py").write_text("x = 1\n")
    script = tmp_path / "etl.py"
    script.write_text(call.replace("REPO", repr(str(repo))))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=120, cwd=tmp_path)  # fmt: skip
    assert done.returncode == 1
    assert done.stderr.count("Traceback") == 1, done.stderr
    assert done.stderr.rstrip().endswith("start it under if __name__ == '__main__':")


HALF_A_RESULT = """
import os, struct, time
from snake_pipe.batching import BatchEngine
from tests.test_engine import double

if __name__ == "__main__":
    engine = BatchEngine.for_items(double, batch_size=10, workers=1)
    batches = iter([list(range(10))])
    assert [o.ok for o in engine.run(lambda n: next(batches, []))] == [True]
    # a worker killed while sending a big result leaves half a message in the result pipe
    writer = engine._executor._result_queue._writer
    os.write(writer.fileno(), struct.pack("!i", 1 << 20) + b"x" * 10)
    time.sleep(0.3)  # the pool's reader thread now waits for the rest
    engine.close(wait_for_workers=False)
    print("closed", flush=True)
"""


def test_closing_without_waiting_never_hangs_on_half_a_result(tmp_path: Path) -> None:
    """The interpreter's exit waits for the pool's reader thread, which must not wait for a
    message that a killed worker will never finish."""
    script = tmp_path / "half.py"
    script.write_text(HALF_A_RESULT)
    root = Path(__file__).resolve().parent.parent
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                            timeout=60, cwd=root, env={**os.environ, "PYTHONPATH": str(root)})  # fmt: skip
    assert result.returncode == 0 and result.stdout == "closed\n", result.stderr
