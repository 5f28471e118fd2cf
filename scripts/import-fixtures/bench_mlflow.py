"""The MLflow side of bench/import.bench.ts: writes a tracking database of RUNS runs x STEPS steps with
MLflow's own client, and times MLflow's own export of it (search_runs + get_metric_history for every
metric of every run), the baseline that `specimen import mlflow` is compared with.

Usage:
    bench_mlflow.py generate OUT_DIR RUNS STEPS   # OUT_DIR/mlflow.db (kept when it already exists)
    bench_mlflow.py export OUT_DIR/mlflow.db      # prints {"seconds": …, "runs": …, "points": …} as JSON
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path


def generate(out: Path, runs: int, steps: int) -> None:
    from mlflow.entities import Metric, Param
    from mlflow.tracking import MlflowClient

    db = out / "mlflow.db"
    marker = out / "complete"
    if marker.exists():
        return
    out.mkdir(parents=True, exist_ok=True)
    client = MlflowClient(f"sqlite:///{db}")
    exp = client.create_experiment("bench")
    now = int(time.time() * 1000)
    for r in range(runs):
        run = client.create_run(exp, run_name=f"run-{r}", start_time=now + r)
        rid = run.info.run_id
        client.log_batch(rid, params=[Param("lr", str(1e-3 * (r + 1))), Param("seed", str(r))])
        # log_batch takes at most 1000 metrics per call.
        loss = [Metric("loss", 1.0 / (1 + s), now + s, s) for s in range(steps)]
        for i in range(0, len(loss), 1000):
            client.log_batch(rid, metrics=loss[i:i + 1000])
        evals = [Metric("eval_acc", s / steps, now + s, s) for s in range(0, steps, 10)]
        for i in range(0, len(evals), 1000):
            client.log_batch(rid, metrics=evals[i:i + 1000])
        client.set_terminated(rid, "FINISHED", end_time=now + r + steps)
    marker.write_text("ok\n")


def export(db: Path) -> None:
    from mlflow.entities import ViewType
    from mlflow.tracking import MlflowClient

    t0 = time.perf_counter()
    client = MlflowClient(f"sqlite:///{db}")
    exps = [e.experiment_id for e in client.search_experiments(view_type=ViewType.ALL)]
    runs = []
    token = None
    while True:
        page = client.search_runs(exps, run_view_type=ViewType.ALL, max_results=1000, page_token=token)
        runs.extend(page)
        token = page.token
        if not token:
            break
    points = 0
    exported = []
    for run in runs:
        metrics = {}
        for key in run.data.metrics:
            history = client.get_metric_history(run.info.run_id, key)
            metrics[key] = [(m.step, m.value, m.timestamp) for m in history]
            points += len(history)
        exported.append({"id": run.info.run_id, "params": run.data.params, "metrics": metrics})
    print(json.dumps({"seconds": time.perf_counter() - t0, "runs": len(runs), "points": points}))


if __name__ == "__main__":
    if sys.argv[1] == "generate":
        generate(Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
    elif sys.argv[1] == "export":
        export(Path(sys.argv[2]))
    else:
        sys.exit(__doc__)
