"""MLflow: `MlflowClient.log_batch` (its documented batch path, ≤ 1,000 metrics a call) into a SQLite store
(`--store sqlite`, the default) or the file store (`--store file`, in maintenance mode in MLflow 3: allowed by MLFLOW_ALLOW_FILE_STORE), `get_metric_history` for the history,
`search_runs(order_by=["metrics.loss ASC"])` for the 10 best (MLflow's `metrics.loss` is the latest value).
The store and the experiment are made in `setup`, untimed, as a user's would already exist."""

import json
import os
import sys
import time

from _workload import PROJECT, args, emit, expected_last_loss, now, rows

STORE = "sqlite"
if len(sys.argv) > 2 and sys.argv[1] == "--store":
    STORE = sys.argv[2]
    del sys.argv[1:3]
if STORE == "file":
    # MLflow 3 refuses the file store ("maintenance mode") unless asked for it explicitly.
    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"


def uri(wd: str) -> str:
    return f"sqlite:///{wd}/mlflow.db" if STORE == "sqlite" else f"file://{wd}/mlruns"


def log_run(client, exp: str, i: int, steps: int, Metric, Param) -> str:
    run = client.create_run(exp, run_name=f"run{i}")
    rid = run.info.run_id
    ts = int(time.time() * 1000)
    batch = []
    params = [Param("i", str(i))]
    for step, r in rows(i, steps):
        for k, v in r.items():
            batch.append(Metric(k, v, ts, step))
        if len(batch) >= 1000:
            client.log_batch(rid, metrics=batch, params=params)
            batch, params = [], []
    if batch or params:
        client.log_batch(rid, metrics=batch, params=params)
    client.set_terminated(rid)
    return rid


def main() -> None:
    mode, wd, n = args()
    t0 = now()
    from mlflow import MlflowClient
    from mlflow.entities import Metric, Param

    t_import = now()
    if mode == "setup":
        MlflowClient(tracking_uri=uri(wd)).create_experiment(PROJECT)
        return emit()
    client = MlflowClient(tracking_uri=uri(wd))
    exp = client.get_experiment_by_name(PROJECT).experiment_id
    t_init = now()
    if mode == "write":
        (steps,) = n
        rid = log_run(client, exp, 0, steps, Metric, Param)
        t_end = now()
        with open(os.path.join(wd, "run.json"), "w") as f:
            json.dump({"run": rid}, f)
        return emit(import_ms=t_import - t0, init_ms=t_init - t_import, log_ms=t_end - t_init, total_ms=t_end - t0)
    if mode == "read":
        (steps,) = n
        with open(os.path.join(wd, "run.json")) as f:
            rid = json.load(f)["run"]
        t1 = now()
        hist = MlflowClient(tracking_uri=uri(wd)).get_metric_history(rid, "loss")
        t2 = now()
        last = max(hist, key=lambda m: m.step).value if hist else None
        return emit(read_ms=t2 - t1, rows=len(hist), last=last, expected_last=expected_last_loss(steps))
    if mode == "sweep":
        runs, steps = n
        for i in range(runs):
            log_run(client, exp, i, steps, Metric, Param)
        t_sweep = now()
        found = client.search_runs([exp], order_by=["metrics.loss ASC"], max_results=10)
        t_query = now()
        return emit(sweep_ms=t_sweep - t_import, query_ms=t_query - t_sweep, top=[int(r.data.params["i"]) for r in found])
    raise SystemExit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
