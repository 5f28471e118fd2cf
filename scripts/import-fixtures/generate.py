"""Writes the fixtures of `specimen import` with the real tools, and what each tool's own reader returns.

Usage: generate.py OUT_DIR [--only mlflow,tensorboard,...]

For every source, OUT_DIR/<source>/ holds what the tool wrote (an MLflow database and file store, a
TensorBoard logdir, W&B offline runs, a Trackio database, Neptune exporter Parquet files) and
OUT_DIR/<source>/expected.json holds the values read back through the tool's own reader
(MlflowClient.get_metric_history, TensorBoard's EventAccumulator, W&B's transaction-log datastore,
Trackio's SQLiteStorage); the TypeScript tests compare the import value for value against it.
OUT_DIR/<source>/bad/ holds damaged inputs (truncated, corrupt, unknown schema, missing artifact).
OUT_DIR/versions.json records the tool versions, which are also printed.

Example:
    .venv-import/bin/python scripts/import-fixtures/generate.py /tmp/fixtures --only mlflow
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sqlite3
import sys
import time
from pathlib import Path

SOURCES = ("mlflow", "tensorboard", "trackio", "wandb", "neptune")


def plain(value):
    """JSON-safe copy: non-finite floats become the strings NaN / Infinity / -Infinity (JSON has none)."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def write_json(path: Path, value) -> None:
    path.write_text(json.dumps(plain(value), indent=1, sort_keys=True, allow_nan=False) + "\n")


# Hyper-parameters of every Python type a user passes; each tool stores them its own way.
PARAMS = {
    "lr": 0.001,
    "epochs": 3,
    "optimizer": "adamw",
    "use_amp": True,
    "dropout": None,
    "layers": [64, 32],
    "schedule": {"kind": "cosine", "warmup": 10},
    "weight_decay": 1e-05,
}


def curve(step: int, run: int = 0) -> float:
    return 1.0 / (1.0 + 0.1 * step) + 0.01 * run


# ---------------------------------------------------------------- MLflow


def mlflow_log_runs(mlflow, base: Path) -> None:
    """Two experiments: a sweep (finished, failed and killed runs) and one with a nested child run."""
    mlflow.set_experiment("Baseline Sweep")
    for i, status in enumerate(["FINISHED", "FAILED", "KILLED"]):
        with mlflow.start_run(run_name=f"sweep-{i}") as run:
            mlflow.log_params({**PARAMS, "run_index": i})
            mlflow.set_tags({"team": "vision", "seed": str(40 + i), "mlflow.source.git.commit": f"{i:x}" * 40})
            for step in range(0, 60):
                mlflow.log_metric("loss", curve(step, i), step=step)
                if step % 10 == 0:
                    mlflow.log_metric("eval/accuracy", 0.5 + step / 200, step=step)
            mlflow.log_metric("lr", float("nan"), step=7)
            mlflow.log_metric("lr", 0.001, step=8)
            mlflow.log_metric("grad_norm", float("inf"), step=3)
            mlflow.log_metric("repeated", 1.0, step=5)
            mlflow.log_metric("repeated", 2.0, step=5)
            if i == 0:
                files = base / "artifact-src"
                (files / "plots" / "deep").mkdir(parents=True, exist_ok=True)
                (files / "notes.txt").write_text("first run\n")
                (files / "plots" / "deep" / "curve.csv").write_text("step,loss\n0,1.0\n")
                (files / "weights.bin").write_bytes(bytes(range(256)) * 4)
                mlflow.log_artifact(str(files / "notes.txt"))
                mlflow.log_artifact(str(files / "weights.bin"), "model")
                mlflow.log_artifacts(str(files / "plots"), "plots")
            if status != "FINISHED":
                mlflow.end_run(status=status)
    mlflow.set_experiment("nested/experiment")
    with mlflow.start_run(run_name="parent"):
        mlflow.log_metric("outer", 1.5, step=0)
        with mlflow.start_run(run_name="child", nested=True):
            mlflow.log_param("depth", 2)
            mlflow.log_metric("inner", 2.5, step=1)


def mlflow_expected(client, store: str) -> dict:
    """What MLflow's own client reads back, run by run."""
    from mlflow.entities import ViewType

    experiments = {}
    for exp in client.search_experiments(view_type=ViewType.ALL):
        runs = []
        for run in client.search_runs([exp.experiment_id], run_view_type=ViewType.ALL):
            metrics = {}
            for key in run.data.metrics:
                history = client.get_metric_history(run.info.run_id, key)
                metrics[key] = [{"step": m.step, "value": m.value, "timestamp": m.timestamp} for m in history]
            artifacts = []

            def walk(path=None):
                for f in client.list_artifacts(run.info.run_id, path):
                    if f.is_dir:
                        walk(f.path)
                    else:
                        artifacts.append({"path": f.path, "bytes": f.file_size})

            walk()
            runs.append(
                {
                    "run_id": run.info.run_id,
                    "run_name": run.info.run_name,
                    "status": run.info.status,
                    "start_time": run.info.start_time,
                    "end_time": run.info.end_time,
                    "params": run.data.params,
                    "tags": run.data.tags,
                    "metrics": metrics,
                    "artifacts": sorted(artifacts, key=lambda a: a["path"]),
                }
            )
        if runs:
            experiments[exp.name] = {
                "experiment_id": exp.experiment_id,
                "creation_time": exp.creation_time,
                "runs": runs,
            }
    return {"store": store, "experiments": experiments}


def generate_mlflow(out: Path) -> dict:
    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"  # the legacy file store is still written by MLflow 3
    import mlflow
    from mlflow.tracking import MlflowClient

    base = out / "mlflow"
    base.mkdir(parents=True)
    cwd = os.getcwd()
    os.chdir(base)  # artifacts of the SQLite store go to ./mlruns beside the database
    try:
        mlflow.set_tracking_uri("sqlite:///mlflow.db")
        mlflow_log_runs(mlflow, base)
        write_json(base / "expected-sqlite.json", mlflow_expected(MlflowClient("sqlite:///mlflow.db"), "mlflow.db"))
        mlflow.set_tracking_uri("file:./filestore")
        mlflow_log_runs(mlflow, base)
        write_json(base / "expected-filestore.json", mlflow_expected(MlflowClient("file:./filestore"), "filestore"))
    finally:
        os.chdir(cwd)
    bad = base / "bad"
    bad.mkdir()
    # A database cut short: SQLite cannot read past its first pages.
    data = (base / "mlflow.db").read_bytes()
    (bad / "truncated.db").write_bytes(data[: len(data) // 3])
    (bad / "not-a-database.db").write_bytes(b"this is not SQLite\n" * 100)
    # A schema this importer has never seen: MLflow's alembic revision moved on and a table was renamed.
    shutil.copy(base / "mlflow.db", bad / "unknown-schema.db")
    con = sqlite3.connect(bad / "unknown-schema.db")
    con.execute("UPDATE alembic_version SET version_num = 'ffffffffffff'")
    con.execute("ALTER TABLE metrics RENAME TO metric_points")
    con.commit()
    con.close()
    # A file store whose run lost an artifact: the file is listed (a dangling link) but gone from disk.
    shutil.copytree(base / "filestore", bad / "missing-artifact", symlinks=True)
    for meta in sorted((bad / "missing-artifact").glob("*/*/meta.yaml")):
        art = meta.parent / "artifacts"
        if (art / "notes.txt").exists():
            (art / "notes.txt").unlink()
            os.symlink("gone-from-disk.txt", art / "notes.txt")
    return {"mlflow": mlflow.__version__}


# ---------------------------------------------------------------- TensorBoard


def tb_tensor_summary(tag: str, plugin: str, tensor):
    from tensorboardX.proto.summary_pb2 import Summary, SummaryMetadata

    meta = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name=plugin))
    return Summary(value=[Summary.Value(tag=tag, metadata=meta, tensor=tensor)])


def tb_tensor(values, shape, dtype="float", content=False):
    import numpy as np
    from tensorboardX.proto.tensor_pb2 import TensorProto
    from tensorboardX.proto.tensor_shape_pb2 import TensorShapeProto

    t = TensorProto(dtype=1 if dtype == "float" else 2,
                    tensor_shape=TensorShapeProto(dim=[TensorShapeProto.Dim(size=d) for d in shape]))
    if content:
        t.tensor_content = np.asarray(values, dtype="<f8" if dtype == "double" else "<f4").tobytes()
    elif dtype == "double":
        t.double_val.extend(values)
    else:
        t.float_val.extend(values)
    return t


def tb_expected(run_dir: Path) -> dict:
    """What TensorBoard's EventAccumulator reads back, keeping every event (size guidance 0)."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.util import tensor_util

    acc = EventAccumulator(str(run_dir), size_guidance={"scalars": 0, "histograms": 0, "tensors": 0,
                                                        "images": 0, "audio": 0, "compressedHistograms": 0})
    acc.Reload()
    tags = acc.Tags()
    out = {"scalars": {}, "histograms": {}, "tensors": {}}
    for tag in tags["scalars"]:
        out["scalars"][tag] = [{"step": e.step, "wall_time": e.wall_time, "value": e.value} for e in acc.Scalars(tag)]
    for tag in tags["histograms"]:
        out["histograms"][tag] = [
            {"step": e.step, "wall_time": e.wall_time, "min": h.min, "max": h.max, "num": h.num, "sum": h.sum,
             "sum_squares": h.sum_squares, "bucket_limit": list(h.bucket_limit), "bucket": list(h.bucket)}
            for e in acc.Histograms(tag) for h in [e.histogram_value]
        ]
    for tag in tags["tensors"]:
        events = []
        for e in acc.Tensors(tag):
            arr = tensor_util.make_ndarray(e.tensor_proto)
            value = [x.decode() if isinstance(x, bytes) else x for x in arr.flatten().tolist()]
            events.append({"step": e.step, "wall_time": e.wall_time, "shape": list(arr.shape), "values": value,
                           "plugin": acc.SummaryMetadata(tag).plugin_data.plugin_name})
        out["tensors"][tag] = events
    return out


def generate_tensorboard(out: Path) -> dict:
    import numpy as np
    import tensorboard
    import tensorboardX
    from tensorboardX import SummaryWriter
    from tensorboardX.proto.event_pb2 import Event
    from tensorboardX.record_writer import RecordWriter

    base = out / "tensorboard"
    logdir = base / "logs"
    rng = np.random.default_rng(0)
    train = logdir / "train"
    w = SummaryWriter(str(train))
    for step in range(50):
        w.add_scalar("train/loss", curve(step), step)
        if step % 10 == 0:
            w.add_scalar("eval/accuracy", 0.5 + step / 100, step)
            w.add_histogram("weights/layer1", rng.normal(size=200) * (1 + step / 50), step)
    w.add_scalar("train/loss_nan", float("nan"), 5)
    w.add_text("notes", "Warm-up done; **lr** decays from here.", 0)
    w.add_text("notes", "Second note.", 30)
    writer = w._get_file_writer()
    for step in range(0, 50, 5):
        writer.add_summary(tb_tensor_summary("lr", "scalars", tb_tensor([1e-3 / (1 + step)], [])), step)
    for step in range(3):
        writer.add_summary(tb_tensor_summary("probe/logits", "custom", tb_tensor(
            [float(step + i) for i in range(6)], [2, 3], dtype="double", content=True)), step)
    w.close()
    time.sleep(1.1)  # a resumed run: a second event file in the same directory, with a later name
    w = SummaryWriter(str(train))
    for step in range(50, 60):
        w.add_scalar("train/loss", curve(step), step)
    w.close()
    nested = logdir / "sweep" / "lr_0.1"
    w = SummaryWriter(str(nested))
    for step in range(0, 100, 3):
        w.add_scalar("loss", curve(step, 1), step)
    w.close()
    expected = {}
    for run_dir in sorted({p.parent for p in logdir.rglob("events.out.tfevents.*")}):
        expected[run_dir.relative_to(logdir).as_posix()] = tb_expected(run_dir)
    write_json(base / "expected.json", expected)

    bad = base / "bad"
    (bad / "truncated" / "run").mkdir(parents=True)
    first = sorted(train.glob("events.out.tfevents.*"))[0]
    data = first.read_bytes()
    (bad / "truncated" / "run" / first.name).write_bytes(data[: int(len(data) * 0.6)])
    write_json(bad / "truncated" / "expected.json", {"run": tb_expected(bad / "truncated" / "run")})
    (bad / "unknown-version" / "run").mkdir(parents=True)
    rw = RecordWriter(str(bad / "unknown-version" / "run" / "events.out.tfevents.1700000000.host"))
    rw.write(Event(wall_time=1700000000.0, file_version="brain.Event:9").SerializeToString())
    rw.write(Event(wall_time=1700000001.0, step=1).SerializeToString())
    rw.close()
    # One good run beside one corrupt file: the good one is imported, the other reported.
    shutil.copytree(nested, bad / "corrupt" / "good")
    (bad / "corrupt" / "broken").mkdir(parents=True)
    damaged = bytearray(data)
    damaged[len(damaged) // 2] ^= 0xFF
    (bad / "corrupt" / "broken" / first.name).write_bytes(bytes(damaged))
    return {"tensorboard": tensorboard.__version__, "tensorboardX": tensorboardX.__version__}


# ---------------------------------------------------------------- Trackio


def generate_trackio(out: Path) -> dict:
    base = out / "trackio"
    store = base / "store"
    store.mkdir(parents=True)
    os.environ["TRACKIO_DIR"] = str(store)
    import trackio
    from trackio.sqlite_storage import SQLiteStorage

    for i in range(2):
        trackio.init(project="vision-sweep", name=f"run-{i}", config={**PARAMS, "run_index": i})
        for step in range(40):
            metrics = {"train/loss": curve(step, i)}
            if step % 10 == 0:
                metrics["eval/accuracy"] = 0.5 + step / 100
            if step == 7:
                metrics["grad_norm"] = float("nan")
            if step == 8:
                metrics["grad_norm"] = float("inf")
            trackio.log(metrics, step=step)
        trackio.finish()
    trackio.init(project="odd-values", name="with-text", config={"note": "a text metric"})
    trackio.log({"loss": 0.5, "comment": "not a number"}, step=0)
    trackio.finish()

    expected = {}
    for project in ("vision-sweep", "odd-values"):
        runs = []
        for record in SQLiteStorage.get_run_records(project):
            run_id = record.get("id") or record.get("run_id")
            logs = SQLiteStorage.get_logs(project, run_id=run_id)
            runs.append({
                "run_id": run_id,
                "name": record["name"],
                "config": SQLiteStorage.get_run_config(project, run_id=run_id),
                "logs": [{k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()}
                         for row in logs],
            })
        expected[project] = runs
    write_json(base / "expected.json", expected)

    bad = base / "bad"
    bad.mkdir()
    data = (store / "vision-sweep.db").read_bytes()
    (bad / "truncated.db").write_bytes(data[: len(data) // 4])
    con = sqlite3.connect(bad / "unknown-schema.db")
    con.execute("CREATE TABLE metrics (id INTEGER PRIMARY KEY, run_name TEXT, step INTEGER, payload TEXT)")
    con.commit()
    con.close()
    return {"trackio": trackio.__version__}


# ---------------------------------------------------------------- W&B


def generate_wandb(out: Path) -> dict:
    """Offline runs. wandb 0.31 no longer ships a Python reader for its transaction log (the old
    wandb.sdk.internal.datastore is gone and wandb.Api is online-only), so the expected values are the ones
    this script logged, with the _step W&B assigns (one per log call), saved as JSON."""
    os.environ["WANDB_MODE"] = "offline"
    os.environ["WANDB_SILENT"] = "true"
    import wandb

    base = out / "wandb"
    base.mkdir(parents=True)
    os.environ["WANDB_DIR"] = str(base)
    expected = {}
    for i, exit_code in enumerate([0, 1]):
        run = wandb.init(project="wandb-sweep", config={**PARAMS, "run_index": i}, tags=["sweep", f"r{i}"],
                         notes=f"run {i} of the sweep", group="sweep-1", job_type="train")
        run.define_metric("epoch")
        run.define_metric("eval/*", step_metric="epoch")
        rows = []
        step = 0
        for t in range(40):
            row = {"train/loss": curve(t, i), "lr": 1e-3 if t != 7 else float("nan")}
            if t == 9:
                row["grad_norm"] = float("inf")
            run.log(row)
            rows.append({"_step": step, **row})
            step += 1
            if t % 10 == 9:
                eval_row = {"eval/accuracy": 0.5 + t / 100, "epoch": t // 10}
                run.log(eval_row)
                rows.append({"_step": step, **eval_row})
                step += 1
        files = base / f"saved-{i}"
        (files / "ckpt" / "sub").mkdir(parents=True)
        (files / "model.txt").write_text(f"model {i}\n")
        (files / "ckpt" / "sub" / "w.bin").write_bytes(bytes(range(64)))
        run.save(str(files / "model.txt"), base_path=str(files), policy="now")
        run.save(str(files / "ckpt" / "sub" / "w.bin"), base_path=str(files), policy="now")
        run.summary["best_accuracy"] = 0.8 + i / 100
        expected[run.id] = {"project": "wandb-sweep", "config": {**PARAMS, "run_index": i}, "rows": rows,
                            "exit_code": exit_code, "tags": ["sweep", f"r{i}"], "notes": f"run {i} of the sweep",
                            "group": "sweep-1", "files": ["ckpt/sub/w.bin", "model.txt"],
                            "step_metrics": {"eval/accuracy": "epoch"}, "summary": {"best_accuracy": 0.8 + i / 100}}
        run.finish(exit_code=exit_code)
    write_json(base / "expected.json", expected)

    # A history export in the layout of W&B's wandb-history.jsonl (rows of run.history()), written here
    # from the rows logged above because exporting needs the online API.
    exports = base / "exports" / "wandb-sweep"
    exports.mkdir(parents=True)
    first_id = next(iter(expected))
    with open(exports / "exported-run.jsonl", "w") as f:
        for n, row in enumerate(expected[first_id]["rows"]):
            f.write(json.dumps({**row, "_timestamp": 1700000000.0 + n, "_runtime": float(n)}) + "\n")

    bad = base / "bad"
    bad.mkdir()
    run_dirs = sorted((base / "wandb").glob("offline-run-*"))
    log = next(run_dirs[0].glob("run-*.wandb"))
    data = log.read_bytes()
    (bad / "truncated").mkdir()
    (bad / "truncated" / log.name).write_bytes(data[: int(len(data) * 0.7)])
    (bad / "future-version").mkdir()
    (bad / "future-version" / log.name).write_bytes(data[:6] + bytes([9]) + data[7:])
    shutil.copytree(run_dirs[0], bad / "missing-file" / run_dirs[0].name)
    (bad / "missing-file" / run_dirs[0].name / "files" / "model.txt").unlink()
    return {"wandb": wandb.__version__}


# ---------------------------------------------------------------- Neptune


# The exporter's Parquet schema (neptune-exporter, src/neptune_exporter/storage: one row per attribute
# value). The exporter itself is not on PyPI and reads from Neptune's servers, so these files are written
# here with pyarrow in its schema and layout: <data>/<project>/<run>_part_<n>.parquet, files under <files>/.
def neptune_schema():
    import pyarrow as pa

    return pa.schema([
        ("project_id", pa.string()), ("run_id", pa.string()), ("attribute_path", pa.string()),
        ("attribute_type", pa.string()), ("step", pa.decimal128(18, 6)), ("timestamp", pa.timestamp("ms", tz="UTC")),
        ("int_value", pa.int64()), ("float_value", pa.float64()), ("string_value", pa.string()),
        ("bool_value", pa.bool_()), ("datetime_value", pa.timestamp("ms", tz="UTC")),
        ("string_set_value", pa.list_(pa.string())), ("file_value", pa.struct([("path", pa.string())])),
        ("histogram_value", pa.struct([("type", pa.string()), ("edges", pa.list_(pa.float64())),
                                       ("values", pa.list_(pa.float64()))])),
    ])


def neptune_rows(project: str, run: str, index: int, t0) -> list[dict]:
    from datetime import timedelta
    from decimal import Decimal

    def row(path, kind, **values):
        return {"project_id": project, "run_id": run, "attribute_path": path, "attribute_type": kind, **values}

    rows = [
        row("sys/name", "string", string_value=f"sweep-{index}"),
        row("sys/creation_time", "datetime", datetime_value=t0),
        row("sys/modification_time", "datetime", datetime_value=t0 + timedelta(minutes=5)),
        row("sys/state", "string", string_value="inactive"),
        row("sys/failed", "bool", bool_value=index == 1),
        row("sys/owner", "string", string_value="researcher"),
        row("sys/tags", "string_set", string_set_value=["sweep", f"r{index}"]),
        row("parameters/lr", "float", float_value=1e-3 * (index + 1)),
        row("parameters/epochs", "int", int_value=3),
        row("parameters/optimizer", "string", string_value="adamw"),
        row("parameters/use_amp", "bool", bool_value=True),
        row("files/model", "file", file_value={"path": f"{project}/{run}/files/model.txt"}),
    ]
    for step in range(30):
        ts = t0 + timedelta(seconds=step)
        rows.append(row("train/loss", "float_series", step=Decimal(step), timestamp=ts,
                        float_value=float("nan") if step == 4 else curve(step, index)))
        if step % 10 == 0:
            rows.append(row("eval/accuracy", "float_series", step=Decimal(step), timestamp=ts + timedelta(milliseconds=500),
                            float_value=0.5 + step / 100))
            rows.append(row("weights", "histogram_series", step=Decimal(step), timestamp=ts,
                            histogram_value={"type": "COUNTING", "edges": [0.0, 0.5, 1.0, 1.5], "values": [1.0, step, 3.0]}))
    rows.append(row("monitoring/stdout", "string_series", step=Decimal(0), timestamp=t0, string_value="epoch 0 done"))
    return rows


def generate_neptune(out: Path) -> dict:
    from datetime import datetime, timezone

    import pyarrow as pa
    import pyarrow.parquet as pq

    base = out / "neptune"
    data = base / "data" / "team_vision"
    data.mkdir(parents=True)
    schema = neptune_schema()
    expected = {}
    t0 = datetime(2025, 3, 4, 10, 0, tzinfo=timezone.utc)
    for i, run in enumerate(["VIS-1", "VIS-2"]):
        rows = neptune_rows("team/vision", run, i, t0)
        table = pa.Table.from_pylist(rows, schema=schema)
        if i == 0:
            # A run exported in two parts, as the exporter does past its part size.
            half = table.num_rows // 2
            pq.write_table(table.slice(0, half), data / f"{run}_part_0.parquet", compression="snappy")
            pq.write_table(table.slice(half), data / f"{run}_part_1.parquet", compression="snappy")
        else:
            pq.write_table(table, data / f"{run}_part_0.parquet", compression="snappy")
        files = base / "files" / "team/vision" / run / "files"
        files.mkdir(parents=True)
        (files / "model.txt").write_text(f"model of {run}\n")
        # What pyarrow reads back from the files just written, as plain values.
        read = []
        for part in sorted(data.glob(f"{run}_part_*.parquet")):
            read.extend(pq.read_table(part).to_pylist())
        expected[f"team/vision/{run}"] = [
            {k: (float(v) if k == "step" and v is not None else
                 v.timestamp() if hasattr(v, "timestamp") else v) for k, v in r.items()}
            for r in read
        ]
    write_json(base / "expected.json", expected)

    bad = base / "bad"
    (bad / "unfinished" / "team_vision").mkdir(parents=True)
    shutil.copy(data / "VIS-2_part_0.parquet", bad / "unfinished" / "team_vision" / "VIS-3_part_0.parquet.tmp")
    shutil.copy(data / "VIS-2_part_0.parquet", bad / "unfinished" / "team_vision" / "VIS-2_part_0.parquet")
    (bad / "truncated" / "team_vision").mkdir(parents=True)
    raw = (data / "VIS-2_part_0.parquet").read_bytes()
    (bad / "truncated" / "team_vision" / "VIS-2_part_0.parquet").write_bytes(raw[: len(raw) // 2])
    (bad / "unknown-schema" / "team_vision").mkdir(parents=True)
    pq.write_table(pa.table({"run": ["VIS-9"], "key": ["loss"], "value": [1.0]}),
                   bad / "unknown-schema" / "team_vision" / "VIS-9_part_0.parquet")
    return {"neptune-exporter format": "pyarrow " + pa.__version__}


# ---------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--only", default=",".join(SOURCES))
    args = parser.parse_args()
    only = [s for s in args.only.split(",") if s]
    unknown = set(only) - set(SOURCES)
    if unknown:
        sys.exit(f"generate.py: unknown sources {sorted(unknown)}; known: {', '.join(SOURCES)}")
    args.out.mkdir(parents=True, exist_ok=True)
    versions = {"python": sys.version.split()[0]}
    started = time.time()
    for source in only:
        if (args.out / source).exists():
            shutil.rmtree(args.out / source)
        versions.update(globals()[f"generate_{source}"](args.out.resolve()))
    write_json(args.out / "versions.json", versions)
    print("import fixtures:", ", ".join(f"{k} {v}" for k, v in sorted(versions.items())),
          f"({time.time() - started:.1f} s)")


if __name__ == "__main__":
    main()
