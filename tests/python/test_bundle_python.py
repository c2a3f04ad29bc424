"""crisk.Bundle and crisk.Schema (the SWIG binding) against the C library called directly
through ctypes, and against xgboost: a bundle built at test time (bundle_builder.py) scores
the same declarations given as a typed DataFrame and as a list of text dicts, with the
same scores, lanes, reasons, hits and rejects as the C API's own path."""
import ctypes
import datetime as dt
import pickle

import numpy as np
import pandas as pd
import pytest
import xgboost as xgb

import crisk
import bundle_builder as bb
from crisk_ctypes import LIB, _Error
from crisk_decl_ctypes import CBatch

_vp = ctypes.c_void_p


class _ScoreOptions(ctypes.Structure):
    VERSION = 1  # CRISK_SCORE_OPTIONS_VERSION: the layout below
    _fields_ = [("version", ctypes.c_uint), ("threads", ctypes.c_int), ("explain", ctypes.c_uint),
                ("today", ctypes.c_int64), ("stream", _vp), ("pool", _vp)]


def _declare():
    sz, perr = ctypes.c_size_t, ctypes.POINTER(_Error)
    LIB.crisk_bundle_load.argtypes = [ctypes.c_char_p, _vp, ctypes.POINTER(_vp), perr]
    LIB.crisk_bundle_free.argtypes = [_vp]
    LIB.crisk_bundle_schema.argtypes = [_vp]
    LIB.crisk_bundle_schema.restype = _vp
    LIB.crisk_bundle_num_models.argtypes = [_vp]
    LIB.crisk_bundle_num_models.restype = sz
    LIB.crisk_bundle_lane_name.argtypes = [_vp, sz]
    LIB.crisk_bundle_lane_name.restype = ctypes.c_char_p
    LIB.crisk_score_options_init.argtypes = [ctypes.POINTER(_ScoreOptions), ctypes.c_uint]
    LIB.crisk_bundle_score.argtypes = [_vp, _vp, ctypes.POINTER(_ScoreOptions),
                                       ctypes.POINTER(_vp), perr]
    LIB.crisk_results_free.argtypes = [_vp]
    LIB.crisk_results_size.argtypes = [_vp]
    LIB.crisk_results_size.restype = sz
    LIB.crisk_results_score.argtypes = [_vp, sz, sz]
    LIB.crisk_results_score.restype = ctypes.c_float
    LIB.crisk_results_lane.argtypes = [_vp, sz]
    LIB.crisk_results_lane.restype = sz
    LIB.crisk_results_reason.argtypes = [_vp, sz, ctypes.c_char_p, sz]
    LIB.crisk_results_num_hits.argtypes = [_vp, sz]
    LIB.crisk_results_num_hits.restype = sz
    LIB.crisk_results_hit_id.argtypes = [_vp, sz, sz]
    LIB.crisk_results_hit_id.restype = ctypes.c_char_p


_declare()


def c_score(path, rows, fields, today_days):
    """Scores text rows with the C API through ctypes; returns (records, rejected rows)."""
    bundle, err = _vp(), _Error()
    assert LIB.crisk_bundle_load(str(path).encode(), None, ctypes.byref(bundle),
                                 ctypes.byref(err)) == 0, err.message
    try:
        schema = type("S", (), {})()
        schema._h = LIB.crisk_bundle_schema(bundle)
        batch = CBatch(schema)
        rejected = []
        for i, row in enumerate(rows):
            try:
                batch.append([row[f] for f in fields], i + 1)
            except Exception:
                rejected.append(i)
        opts = _ScoreOptions()
        assert LIB.crisk_score_options_init(ctypes.byref(opts), _ScoreOptions.VERSION) == 0
        opts.threads, opts.today = 1, today_days
        res = _vp()
        assert LIB.crisk_bundle_score(bundle, batch._h, ctypes.byref(opts), ctypes.byref(res),
                                      ctypes.byref(err)) == 0, err.message
        nmodels = LIB.crisk_bundle_num_models(bundle)
        out = []
        buf = ctypes.create_string_buffer(512)
        for r in range(LIB.crisk_results_size(res)):
            LIB.crisk_results_reason(res, r, buf, 512)
            out.append(([LIB.crisk_results_score(res, r, m) for m in range(nmodels)],
                        LIB.crisk_bundle_lane_name(bundle, LIB.crisk_results_lane(res, r)).decode(),
                        buf.value.decode(),
                        ";".join(LIB.crisk_results_hit_id(res, r, k).decode()
                                 for k in range(LIB.crisk_results_num_hits(res, r)))))
        LIB.crisk_results_free(res)
        del batch
        return out, rejected
    finally:
        LIB.crisk_bundle_free(bundle)


@pytest.fixture(scope="module")
def bundle_dir(tmp_path_factory):
    return bb.build(tmp_path_factory.mktemp("bundle"))


@pytest.fixture(scope="module")
def bundle(bundle_dir):
    return crisk.Bundle(bundle_dir)


@pytest.fixture(scope="module")
def rows():
    return bb.scoring_rows(300, seed=11)


def typed_frame(rows):
    """The rows as an analyst's DataFrame: numbers as int/float, dates as datetime64;
    values that are not numbers or dates stay text (so they are still rejected)."""
    df = pd.DataFrame(rows)
    for col in ["declared_value", "net_mass_kg", "tax_rate"]:
        num = pd.to_numeric(df[col], errors="coerce")
        df[col] = num if num.notna().all() else num.astype(object).where(num.notna(), df[col])
    df["items"] = df["items"].astype(np.int64)
    if df["declaration_date"].map(_is_date).all():
        df["declaration_date"] = pd.to_datetime(df["declaration_date"])
    else:
        df["declaration_date"] = [dt.date.fromisoformat(v) if _is_date(v) else v
                                  for v in df["declaration_date"]]
    df["declaration_id"] = df["declaration_id"].replace("", None)
    return df.set_axis(pd.Index([f"r{i}" for i in range(len(df))]))


def _is_date(v):
    try:
        dt.date.fromisoformat(v)
        return True
    except ValueError:
        return False


TODAY = "2025-06-30"
TODAY_DAYS = (dt.date(2025, 6, 30) - dt.date(1970, 1, 1)).days


def test_dataframe_and_dicts_match_the_c_path(bundle, bundle_dir, rows):
    fields = bundle.schema.field_names
    expected, c_rejected = c_score(bundle_dir, rows, fields, TODAY_DAYS)
    from_dicts = bundle.score(rows, threads=1, today=TODAY)
    df = typed_frame(rows)
    assert df["declared_value"].dtype == object      # row 5's "12,5x" keeps it text
    assert df["net_mass_kg"].dtype == np.float64
    from_frame = bundle.score(df, threads=2, today=dt.date(2025, 6, 30))
    assert c_rejected == [5, 17, 33]
    for res in (from_dicts, from_frame):
        scores, rejects = res
        assert rejects["row"].tolist() == c_rejected
        assert len(scores) + len(rejects) == len(rows)
        assert len(scores) == len(expected)
        got = scores[bundle.model_names].to_numpy()
        want = np.array([e[0] for e in expected], dtype=np.float32)
        np.testing.assert_array_equal(got, want)
        assert scores["lane"].tolist() == [e[1] for e in expected]
        assert scores["reason"].tolist() == [e[2] for e in expected]
        assert scores["hits"].tolist() == [e[3] for e in expected]
        kept = [i for i in range(len(rows)) if i not in c_rejected]
        assert scores["declaration_id"].tolist() == [rows[i]["declaration_id"] for i in kept]
    assert list(from_frame.scores.index) == [f"r{i}" for i in kept]
    assert list(from_frame.rejects.index) == ["r5", "r17", "r33"]
    assert set(from_dicts.scores["lane"]) <= set(bundle.lanes)
    assert (from_dicts.scores["lane"] != "green").sum() > 0


def test_rejects_name_field_and_reason(bundle, rows):
    scores, rejects = bundle.score(rows, today=TODAY)
    reasons = dict(zip(rejects["row"], rejects["reason"]))
    assert "declared_value" in reasons[5] and "not a number" in reasons[5]
    assert "declaration_date" in reasons[17] and "calendar" in reasons[17]
    assert "declaration_id" in reasons[33] and "required" in reasons[33]
    full = crisk.ScoreResult(scores, rejects).combined()
    assert len(full) == len(rows)
    assert full["rejected"].notna().tolist() == [i in (5, 17, 33) for i in range(len(rows))]
    assert full["lane"].isna().tolist() == [i in (5, 17, 33) for i in range(len(rows))]


def test_fraud_score_is_xgboosts(bundle, bundle_dir, rows):
    good = [r for i, r in enumerate(rows) if i not in (5, 17, 33)]
    feats = bundle.schema.features(good)
    booster = xgb.Booster(model_file=str(bundle_dir / "fraud_xgb.json"))
    want = booster.predict(xgb.DMatrix(feats[bb.FRAUD_FEATURES], nthread=1))
    got = bundle.score(good, today=TODAY).scores["fraud"].to_numpy()
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)


def test_contributions_match_xgboost(bundle, bundle_dir, rows):
    good = [r for i, r in enumerate(rows[:60]) if i not in (5, 17, 33)]
    X = bundle.schema.features(good)[bundle.models["fraud"]]
    model = bundle.model("fraud")
    phi = model.contributions(X, threads=1)
    assert phi.shape == (len(good), len(bundle.models["fraud"]) + 1)
    margin = model.predict(X, output="margin")
    np.testing.assert_allclose(phi.sum(axis=1), margin, atol=1e-4)
    booster = xgb.Booster(model_file=str(bundle_dir / "fraud_xgb.json"))
    want = booster.predict(xgb.DMatrix(X, nthread=1), pred_contribs=True)
    np.testing.assert_allclose(phi, want, atol=2e-5)


def test_contributions_multi_output_shape():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 3)).astype(np.float32)
    y = rng.integers(0, 3, 80)
    booster = xgb.train({"objective": "multi:softprob", "num_class": 3, "max_depth": 2,
                         "nthread": 1}, xgb.DMatrix(X, label=y), 3)
    phi = crisk.Model.from_xgboost(booster).contributions(X)
    assert phi.shape == (80, 3, 4)
    want = booster.predict(xgb.DMatrix(X), pred_contribs=True)
    np.testing.assert_allclose(phi, want, atol=2e-5)


def test_schema_fit_save_reload(tmp_path, rows):
    import json
    train = pd.DataFrame(bb.declarations(500, seed=3))
    (tmp_path / "s.json").write_text(json.dumps(bb.SCHEMA))
    schema = crisk.Schema(tmp_path / "s.json")
    assert schema.feature_names == [f["name"] for f in bb.SCHEMA["features"]]
    assert schema.field_names == [f["name"] for f in bb.SCHEMA["fields"]]
    assert "11 fields" in repr(schema)
    with pytest.raises(crisk.CriskError) as e:
        schema.features(train)          # risk rates need fitted tables
    assert e.value.name == "CRISK_E_INVALID_ARGUMENT"
    schema.fit(train, "fraud", folds=4, seed=2)
    T = schema.training_matrix(train, "fraud", folds=4, seed=2)
    F = schema.features(train)
    assert T.shape == F.shape == (500, len(schema.feature_names))
    assert T.dtypes.unique().tolist() == [np.float32]
    # table-free features equal; out-of-fold rates differ from the full-fit ones
    np.testing.assert_array_equal(T["log_value"], F["log_value"])
    assert not np.allclose(T["importer_rate"], F["importer_rate"])
    schema.save(tmp_path / "fitted.json")
    again = crisk.Schema(tmp_path / "fitted.json")
    np.testing.assert_array_equal(again.features(train).to_numpy(), F.to_numpy())
    # A rejected row in training data is an error naming it, not a silent drop.
    bad = train.copy()
    bad.loc[7, "declared_value"] = "abc"
    with pytest.raises(crisk.CriskError) as e:
        schema.fit(bad, "fraud")
    assert e.value.code == -8 and "declaration 7" in str(e.value)


def test_errors_are_crisk_errors(bundle, tmp_path, rows):
    with pytest.raises(crisk.CriskError) as e:
        crisk.Bundle(tmp_path / "nowhere")
    assert e.value.code < 0 and "nowhere" in e.value.message
    (tmp_path / "manifest.json").write_text('{"format": "crisk-bundle", "version": 1}')
    with pytest.raises(crisk.CriskError) as e:
        crisk.Bundle(tmp_path)
    assert e.value.name == "CRISK_E_FORMAT"
    with pytest.raises(crisk.CriskError) as e:
        bundle.score(pd.DataFrame(rows).drop(columns=["origin"]))
    assert "origin" in str(e.value)
    with pytest.raises(crisk.CriskError):
        crisk.Schema(tmp_path / "missing.json")
    with pytest.raises(KeyError):
        bundle.model("nope")


def test_empty_input_and_all_rejected(bundle, rows):
    scores, rejects = bundle.score([])
    assert len(scores) == 0 and len(rejects) == 0
    assert list(scores.columns) == (["declaration_id"] + bundle.model_names
                                    + ["lane", "reason", "reason_kind", "hits", "propensity"])
    scores, rejects = bundle.score([{"declaration_id": "X"}, {"origin": "CN"}])
    assert len(scores) == 0 and rejects["row"].tolist() == [0, 1]


def test_values_as_a_csv_holds_them(bundle, rows):
    """Typed values become the text a CSV holds: float repr, ints, ISO dates, NaN/None
    missing; a float32 column gives the float32's shortest text."""
    base = dict(rows[0])
    typed = dict(base, declared_value=float(base["declared_value"]),
                 net_mass_kg=np.float64(base["net_mass_kg"]), items=int(base["items"]),
                 tax_rate=np.float32(base["tax_rate"]),
                 declaration_date=dt.datetime.fromisoformat(base["declaration_date"] + "T13:45"))
    # Batches too small for the budget: each in stream mode, with a fresh state.
    a = bundle.score([base], today=TODAY, state=bundle.stream()).scores
    b = bundle.score([typed], today=TODAY, state=bundle.stream()).scores
    pd.testing.assert_frame_equal(a, b)
    missing = bundle.score([dict(base, origin=None), dict(base, origin=float("nan")),
                            dict(base, origin=""), dict(base, origin=pd.NA)], today=TODAY,
                           state=bundle.stream())
    assert len(missing.scores) == 4
    assert missing.scores["fraud"].nunique() == 1


def test_pickle_repr_and_close(bundle, bundle_dir, rows):
    again = pickle.loads(pickle.dumps(bundle))
    pd.testing.assert_frame_equal(again.score(rows, today=TODAY).scores,
                                  bundle.score(rows, today=TODAY).scores)
    assert "models ['fraud', 'revenue']" in repr(bundle)
    assert "of a bundle" in repr(bundle.schema)
    with crisk.Bundle(bundle_dir) as b:
        schema = b.schema
    with pytest.raises(ValueError):
        b.score(rows)
    with pytest.raises(ValueError):
        schema.features(rows)
    assert crisk.Bundle.shared(bundle_dir) is crisk.Bundle.shared(str(bundle_dir))


def test_same_as_crisk_score_cli(bundle, bundle_dir, rows, tmp_path, run_crisk):
    """`crisk score` on the rows written as CSV (profiles judged by each declaration's own
    date, as the CLI does) gives the binding's ids, scores (%.9g: exact floats), lanes,
    reasons and hits, and rejects the same rows (CSV line = input row + 2)."""
    import csv
    fields = bundle.schema.field_names
    with open(tmp_path / "in.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    proc = run_crisk("score", "--bundle", bundle_dir, "--input", tmp_path / "in.csv",
                     "--output", tmp_path / "out.csv", "--rejects", tmp_path / "rej.csv",
                     "--threads", 1)
    assert f"rows read: {len(rows)}, scored: {len(rows) - 3}, rejected: 3" in proc.stderr
    cli = pd.read_csv(tmp_path / "out.csv", dtype=str, keep_default_na=False)
    rej = pd.read_csv(tmp_path / "rej.csv", dtype=str, keep_default_na=False)
    scores, rejects = bundle.score(typed_frame(rows), threads=1)
    assert [int(x) - 2 for x in rej["line"]] == rejects["row"].tolist()
    assert cli["declaration_id"].tolist() == scores["declaration_id"].tolist()
    for m in bundle.model_names:
        np.testing.assert_array_equal(cli[m].astype(np.float32).to_numpy(),
                                      scores[m].to_numpy())
    assert cli["lane"].tolist() == scores["lane"].tolist()
    assert cli["reason"].tolist() == scores["reason"].tolist()
    assert cli["hits"].tolist() == scores["hits"].tolist()
    # %.9g of the propensity, a double
    np.testing.assert_allclose(cli["propensity"].astype(float), scores["propensity"],
                               rtol=1e-8)


@pytest.fixture(scope="module")
def kind_bundle_dir(tmp_path_factory):
    """A bundle with the 4-class model kind besides fraud and revenue."""
    return bb.build(tmp_path_factory.mktemp("kind"), train_rows=1500, kind=True)


def test_multiclass_model_gives_every_class(kind_bundle_dir, rows, tmp_path, run_crisk):
    """Bundle.score returns every class of a multi-class model, in columns named as
    `crisk score` names them, equal to xgboost's predict_proba on the bundle's features
    of the scored rows, and to the CLI's output; a pool changes nothing."""
    import csv
    bundle = crisk.Bundle(kind_bundle_dir)
    columns = [f"kind:score_{k}" for k in range(len(bb.KINDS))]
    assert bundle.score_columns == {"fraud": ["fraud"], "revenue": ["revenue"],
                                    "kind": columns}
    scores, rejects = bundle.score(rows, threads=1, today=TODAY)
    assert list(scores.columns) == ["declaration_id", "fraud", "revenue", *columns, "lane",
                                    "reason", "reason_kind", "hits", "propensity"]
    assert rejects["row"].tolist() == [5, 17, 33]
    want = bb.kind_probabilities(kind_bundle_dir, [rows[i] for i in scores.index])
    have = scores[columns].to_numpy()
    assert have.shape == want.shape == (len(rows) - 3, len(bb.KINDS))
    np.testing.assert_allclose(have, want, rtol=0, atol=1e-6)
    assert not np.allclose(have[:, 1:], 0)   # not the first class repeated
    np.testing.assert_allclose(have.sum(axis=1), 1, rtol=1e-5)
    with crisk.Pool(2) as pool:
        pd.testing.assert_frame_equal(bundle.score(rows, threads=0, today=TODAY,
                                                   pool=pool).scores, scores)
    with open(tmp_path / "in.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=bundle.schema.field_names, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    run_crisk("score", "--bundle", kind_bundle_dir, "--input", tmp_path / "in.csv",
              "--output", tmp_path / "out.csv", "--threads", 1)
    cli = pd.read_csv(tmp_path / "out.csv", dtype=str, keep_default_na=False)
    own = bundle.score(rows, threads=1).scores   # each declaration's date, as the CLI
    assert list(cli.columns) == [c for c in own.columns if c != "reason_kind"]
    for c in ["fraud", "revenue", *columns]:
        np.testing.assert_array_equal(cli[c].astype(np.float32).to_numpy(), own[c].to_numpy())


def test_small_batches_need_stream_mode(bundle, rows):
    """Issue 16, defect 2: the policy's 2% red budget scored one declaration per call
    without a lane state sent every declaration to red (ceil(0.02 x 1) = 1). A batch too
    small for a budget share is now refused, naming the lane and stream mode; 50 rows (the
    smallest batch a 2% share allows) are scored; with a state, one declaration per call
    gets the lanes of the same declarations scored in one call with a state."""
    valid = [r for r in rows if bundle.score([r], today=TODAY,
                                             state=bundle.stream()).rejects.empty]
    with pytest.raises(crisk.CriskError) as e:
        bundle.score(valid[:1], today=TODAY)
    assert e.value.name == "CRISK_E_INVALID_ARGUMENT"
    assert "lane \"red\"'s share 0.02" in e.value.message
    assert "stream mode" in e.value.message and "bundle.stream()" in e.value.message
    with pytest.raises(crisk.CriskError):
        bundle.score(valid[:49], today=TODAY)
    assert len(bundle.score(valid[:50], today=TODAY).scores) == 50
    whole = bundle.score(valid, today=TODAY, state=bundle.stream()).scores
    state = bundle.stream()
    one = pd.concat([bundle.score([r], today=TODAY, state=state).scores for r in valid],
                    ignore_index=True)
    assert list(one["lane"]) == list(whole["lane"])
    assert list(one["reason"]) == list(whole["reason"])
    assert (one["lane"] == "red").mean() < 0.5
