"""Scale-out on Spark (issue 16, item 12), the PySpark pattern of docs/java.md: a
local[2] session scores the example bundle's declarations with mapInPandas, each Python
worker loading the bundle once (Bundle.shared) and scoring each partition as one batch.
The result equals single-process scoring row for row: the lane policy's budget applies
per scored batch, so the reference scores the rows of each partition Spark made as one
batch; model scores do not depend on batching and are also checked against scoring the
whole file at once. The Java Spark job (tests/spark-java) is run by the meson test
spark-java."""
from pathlib import Path

import pandas as pd

import crisk

EXAMPLE = Path(__file__).resolve().parents[2] / "models" / "example"


def test_pyspark_map_in_pandas_matches_single_process():
    from pyspark.sql import SparkSession

    # Nested, so that cloudpickle ships it by value: Spark's Python workers cannot
    # import this test module.
    def score_partitions(batches, path):
        """mapInPandas body: every Arrow batch of one partition, scored as one batch,
        with the partition's id and each row's position in the input."""
        from pyspark import TaskContext
        frame = pd.concat(list(batches), ignore_index=True)
        scored = crisk.Bundle.shared(path).score(frame, threads=1).combined()
        scored.insert(0, "position", frame["position"].astype("int64").to_numpy())
        scored.insert(1, "partition", TaskContext.get().partitionId())
        scored.insert(2, "order", range(len(frame)))   # the batch's row order: budget ties
        return iter([scored])

    decls = pd.read_csv(EXAMPLE / "declarations.csv", dtype=str, keep_default_na=False)
    decls.insert(0, "position", [str(i) for i in range(len(decls))])
    bundle = crisk.Bundle(EXAMPLE)
    whole = bundle.score(decls.drop(columns="position"), threads=1).combined()
    spark_types = {"float32": "float", "float64": "double"}   # scores; propensity
    schema = ", ".join(["position long", "partition int", "order long"]
                       + [f"`{c}` {spark_types.get(str(whole[c].dtype), 'string')}"
                          for c in whole.columns])
    spark = (SparkSession.builder.master("local[2]").appName("crisk-test")
             .config("spark.ui.enabled", "false")
             .config("spark.sql.execution.arrow.pyspark.enabled", "true")
             .getOrCreate())
    try:
        frame = spark.createDataFrame(decls).repartition(2)
        got = (frame.mapInPandas(lambda b: score_partitions(b, str(EXAMPLE)), schema)
               .toPandas().sort_values("position", ignore_index=True))
    finally:
        spark.stop()
    assert list(got["position"]) == list(range(len(decls)))
    assert got["partition"].nunique() == 2
    assert got["rejected"].isna().all()
    for part, rows in got.groupby("partition"):
        rows = rows.sort_values("order")
        assert len(rows) >= 50   # a batch the example's 2% budget accepts
        want = bundle.score(decls.drop(columns="position").iloc[rows["position"]],
                            threads=1).combined()
        assert want["rejected"].isna().all()   # None here, NaN through Arrow
        columns = [c for c in whole.columns if c != "rejected"]
        pd.testing.assert_frame_equal(rows[columns].reset_index(drop=True),
                                      want[columns].reset_index(drop=True), check_dtype=False)
    pd.testing.assert_frame_equal(got[bundle.model_names], whole[bundle.model_names],
                                  check_dtype=False)
