"""Scale-out on Dask: a LocalCluster of two worker processes scores a partitioned
declarations DataFrame with map_partitions(crisk.score_partition), each worker loading the
bundle once (Bundle.shared), and the result equals single-process scoring row for row.
The lane policy's inspection budget applies per scored batch, here per partition, so the
single-process reference scores the same partitions one by one; model scores do not depend
on batching and are also checked against scoring the whole frame at once. Every wait has a
timeout, so a broken cluster fails the test instead of hanging CI."""
import functools

import pandas as pd

import dask.dataframe as dd
import distributed

import crisk
import bundle_builder as bb

TODAY = "2025-06-30"


def test_local_cluster_matches_single_process(tmp_path):
    path = str(bb.build(tmp_path, train_rows=1500))
    rows = bb.scoring_rows(800, seed=5)
    df = pd.DataFrame(rows).set_axis(pd.RangeIndex(1000, 1000 + len(rows)))
    ddf = dd.from_pandas(df, npartitions=6)
    bundle = crisk.Bundle(path)
    parts = [ddf.get_partition(i).compute(scheduler="synchronous")
             for i in range(ddf.npartitions)]
    want = pd.concat([bundle.score(p, threads=1, today=TODAY).combined() for p in parts])
    whole = bundle.score(df, threads=1, today=TODAY).combined()
    meta = crisk.score_partition(df.head(0), path, today=TODAY)
    scored = ddf.map_partitions(crisk.score_partition, path, today=TODAY, meta=meta)
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                  dashboard_address=None, silence_logs=40,
                                  death_timeout=60) as cluster, \
            distributed.Client(cluster, timeout=60) as client:
        got = client.compute(scored).result(timeout=120)
        loads = client.run(functools.partial(getattr, crisk.Bundle, "loads"))
    assert len(loads) == 2
    # Each worker that scored loaded the bundle exactly once, whatever its partitions.
    assert sorted(loads.values()) in ([1, 1], [0, 1])
    assert len(got) == len(df)
    pd.testing.assert_frame_equal(got, want, check_dtype=False, check_index_type=False)
    assert got["rejected"].notna().sum() == 3
    pd.testing.assert_frame_equal(got[bundle.model_names], whole[bundle.model_names],
                                  check_index_type=False)
