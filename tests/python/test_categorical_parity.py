"""Category values are re-coded by value, as XGBoost 3.x and LightGBM 4.x re-code them.

Models are trained here on pandas category columns (text and integer categories), saved by
the libraries themselves (XGBoost JSON and UBJSON, LightGBM model.txt) and loaded back by
the libraries and by crisk. They are scored on frames whose categories differ from the
training frame's: in another order, a subset, with missing values, with a value never seen
in training, and as plain text columns. crisk's scores (the Python binding, and `crisk
predict` on the same rows written as CSV) must equal the library's own predictions; where
XGBoost raises on an unseen category crisk must refuse it too, naming the feature and the
value; where LightGBM scores it as missing, so must crisk.
"""
import csv
import math

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest
import xgboost as xgb

import crisk

ORIGINS = ["AE", "BR", "CN", "DE", "IN", "NA", "TR", "VN"]   # NA: Namibia, not missing
RISKY = {"TR", "VN"}
CHAPTERS = [10, 27, 61, 85, 93]
RISKY_CHAPTERS = {27, 93}
N = 3000
CRISK_E_INVALID_ARGUMENT, CRISK_E_INPUT = -1, -8


def training_frame(seed=7):
    """Text categories (origin) and integer categories (chapter), 5% missing each, a
    numeric column, and a label driven mostly by the categories."""
    rng = np.random.default_rng(seed)
    origin = rng.choice(ORIGINS, N).astype(object)
    chapter = rng.choice(CHAPTERS, N).astype(float)
    origin[rng.random(N) < 0.05] = None
    chapter[rng.random(N) < 0.05] = np.nan
    x = rng.normal(size=N)
    risky = np.isin(origin, list(RISKY)) | np.isin(chapter, list(RISKY_CHAPTERS))
    y = (risky & (rng.random(N) < 0.9)) | (rng.random(N) < 0.05 + 0.02 * (x > 1))
    frame = pd.DataFrame({
        "origin": pd.Categorical(origin, categories=ORIGINS),
        "chapter": pd.Categorical(pd.array(chapter, dtype="Int64"), categories=CHAPTERS),
        "x": x,
    })
    return frame, y.astype(int)


def scoring_rows(seed=11, n=200):
    """Rows of values seen in training, with missing ones, as plain Python lists."""
    rng = np.random.default_rng(seed)
    origin = [None if rng.random() < 0.1 else str(v) for v in rng.choice(ORIGINS, n)]
    chapter = [None if rng.random() < 0.1 else int(v) for v in rng.choice(CHAPTERS, n)]
    return origin, chapter, rng.normal(size=n)


def variant_frame(kind, origin, chapter, x):
    """The rows as a frame of one of the shapes a caller may hand over."""
    if kind == "reordered":
        cats_o, cats_c = ORIGINS[::-1], CHAPTERS[::-1]
    elif kind == "subset":
        cats_o = sorted({v for v in origin if v is not None}, reverse=True)
        cats_c = sorted({v for v in chapter if v is not None}, reverse=True)
    elif kind == "inferred":    # as pandas infers them: the values present, sorted
        cats_o = sorted({v for v in origin if v is not None})
        cats_c = sorted({v for v in chapter if v is not None})
    else:
        cats_o, cats_c = ORIGINS, CHAPTERS
    return pd.DataFrame({
        "origin": pd.Categorical(origin, categories=cats_o),
        "chapter": pd.Categorical(pd.array(chapter, dtype="Int64"), categories=cats_c),
        "x": x,
    })


def assert_scores_equal(got, want):
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    assert got.shape == want.shape
    assert np.max(np.abs(got - want)) <= 1e-6, (got, want)


def write_csv(path, origin, chapter, x):
    """The rows as `crisk predict` reads them: text cells, missing ones empty."""
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["x", "chapter", "origin"])   # another order than the model's
        for o, c, v in zip(origin, chapter, x):
            w.writerow([repr(float(v)), "" if c is None else c, "" if o is None else o])


def cli_scores(run_crisk, model_path, csv_path):
    out = run_crisk("predict", "--model", model_path, "--input", csv_path).stdout.split()
    assert out[0] == "score"
    return np.array([float(v) for v in out[1:]])


@pytest.fixture(scope="module", params=["partition", "onehot"])
def xgb_models(request, tmp_path_factory):
    """An XGBoost model with categorical splits of one kind, saved as JSON and UBJSON."""
    frame, y = training_frame()
    onehot = 16 if request.param == "onehot" else 1
    booster = xgb.train({"objective": "binary:logistic", "max_depth": 4, "eta": 0.3,
                         "max_cat_to_onehot": onehot, "nthread": 1},
                        xgb.DMatrix(frame, y, enable_categorical=True), 20)
    d = tmp_path_factory.mktemp(f"xgb-{request.param}")
    paths = {}
    for ext in ("json", "ubj"):
        paths[ext] = str(d / f"model.{ext}")
        booster.save_model(paths[ext])
    return paths


@pytest.fixture(scope="module")
def lgb_model(tmp_path_factory):
    """A LightGBM model trained on the frame's category columns, saved as model.txt."""
    frame, y = training_frame()
    booster = lgb.train({"objective": "binary", "num_leaves": 15, "min_data_per_group": 5,
                         "cat_smooth": 1, "verbose": -1, "num_threads": 1},
                        lgb.Dataset(frame, y), 20)
    path = tmp_path_factory.mktemp("lgb") / "model.txt"
    booster.save_model(str(path))
    return str(path)


def test_models_store_their_categories(xgb_models, lgb_model, run_crisk):
    """The values come from the files, in the trainer's code order, for the API and
    `crisk inspect`."""
    for path in [xgb_models["json"], xgb_models["ubj"], lgb_model]:
        model = crisk.Model(path)
        assert model.categories(0) == ORIGINS
        assert model.categories(1) == [str(c) for c in CHAPTERS]
        assert model.categories(2) is None
        lines = run_crisk("inspect", "--model", path).stdout.splitlines()
        assert 'categories[origin]: ["' + '", "'.join(ORIGINS) + '"]' in lines
        assert "categories[chapter]: [" + ", ".join(map(str, CHAPTERS)) + "]" in lines
        assert not any(line.startswith("categories[x]") for line in lines)


@pytest.mark.parametrize("kind", ["training-order", "reordered", "subset"])
@pytest.mark.parametrize("fmt", ["json", "ubj"])
def test_xgboost_recodes_by_value(xgb_models, kind, fmt, tmp_path, run_crisk):
    origin, chapter, x = scoring_rows()
    frame = variant_frame(kind, origin, chapter, x)
    booster = xgb.Booster(model_file=xgb_models[fmt])
    want = booster.predict(xgb.DMatrix(frame, enable_categorical=True))
    model = crisk.Model(xgb_models[fmt])
    assert_scores_equal(model.predict(frame), want)
    # Plain text columns (which XGBoost itself does not take) mean the same values.
    text = pd.DataFrame({"origin": pd.Series(origin, dtype=object),
                         "chapter": pd.Series([None if c is None else str(c) for c in chapter],
                                              dtype=object), "x": x})
    assert_scores_equal(model.predict(text), want)
    write_csv(tmp_path / "cases.csv", origin, chapter, x)
    assert_scores_equal(cli_scores(run_crisk, xgb_models[fmt], tmp_path / "cases.csv"), want)


def test_xgboost_refuses_an_unseen_category(xgb_models, tmp_path, run_crisk):
    """XGBoost raises on a category outside its training set; crisk refuses it naming the
    feature and the value, from a frame and from a CSV file."""
    origin, chapter, x = scoring_rows()
    origin[3] = "ZZ"
    frame = variant_frame("inferred", origin, chapter, x)
    booster = xgb.Booster(model_file=xgb_models["json"])
    with pytest.raises(xgb.core.XGBoostError, match="not in the training set"):
        booster.predict(xgb.DMatrix(frame, enable_categorical=True))
    model = crisk.Model(xgb_models["json"])
    with pytest.raises(crisk.CriskError) as e:
        model.predict(frame)
    assert e.value.name == "CRISK_E_INPUT"
    assert '"origin"' in e.value.message and '"ZZ"' in e.value.message
    write_csv(tmp_path / "cases.csv", origin, chapter, x)
    proc = run_crisk("predict", "--model", xgb_models["json"], "--input",
                     tmp_path / "cases.csv", check=False)
    assert proc.returncode == 1
    assert 'line 5, column 3 ("origin")' in proc.stderr and '"ZZ"' in proc.stderr


def test_xgboost_refuses_numbers_for_a_categorical_column(xgb_models):
    """A numeric column for a feature storing categories is neither the values nor
    surely the model's codes: XGBoost refuses it, and so does crisk."""
    origin, chapter, x = scoring_rows()
    frame = variant_frame("training-order", origin, chapter, x)
    frame["origin"] = frame["origin"].cat.codes
    with pytest.raises(xgb.core.XGBoostError):
        xgb.Booster(model_file=xgb_models["json"]).predict(
            xgb.DMatrix(frame, enable_categorical=True))
    with pytest.raises(crisk.CriskError, match="origin"):
        crisk.Model(xgb_models["json"]).predict(frame)


@pytest.mark.parametrize("kind", ["training-order", "reordered", "subset", "unseen"])
def test_lightgbm_recodes_by_value(lgb_model, kind, tmp_path, run_crisk):
    """LightGBM re-codes a frame with pandas' set_categories against pandas_categorical:
    a value outside it becomes NaN and is scored as missing; crisk does the same."""
    origin, chapter, x = scoring_rows()
    if kind == "unseen":
        origin[3], origin[8], chapter[5] = "ZZ", "zz", 99
    frame = variant_frame("inferred" if kind == "unseen" else kind, origin, chapter, x)
    want = lgb.Booster(model_file=lgb_model).predict(frame)
    model = crisk.Model(lgb_model)
    assert_scores_equal(model.predict(frame), want)
    text = frame.assign(origin=pd.Series(origin, dtype=object))
    assert_scores_equal(model.predict(text), want)
    write_csv(tmp_path / "cases.csv", origin, chapter, x)
    assert_scores_equal(cli_scores(run_crisk, lgb_model, tmp_path / "cases.csv"), want)
    if kind == "unseen":
        assert math.isnan(model.category_code(0, "ZZ"))


def test_na_is_a_category_when_the_model_stores_it(xgb_models, tmp_path, run_crisk):
    """"NA" (Namibia) is a stored category: in a CSV cell it is that category, not a
    missing value; an empty cell is missing."""
    model = crisk.Model(xgb_models["json"])
    assert model.category_code(0, "NA") == ORIGINS.index("NA")
    origin, chapter, x = ["NA", None], [10, 10], [0.0, 0.0]
    frame = variant_frame("training-order", origin, chapter, np.array(x))
    want = xgb.Booster(model_file=xgb_models["json"]).predict(
        xgb.DMatrix(frame, enable_categorical=True))
    write_csv(tmp_path / "cases.csv", origin, chapter, x)
    assert_scores_equal(cli_scores(run_crisk, xgb_models["json"], tmp_path / "cases.csv"),
                        want)


def test_lightgbm_ordered_category_column_is_refused(tmp_path):
    """An ordered category column is in pandas_categorical but LightGBM splits it as a
    number: which feature each list belongs to is unknown, and crisk refuses the model
    rather than guess."""
    frame, y = training_frame()
    frame["origin"] = frame["origin"].cat.as_ordered()
    booster = lgb.train({"objective": "binary", "verbose": -1, "num_threads": 1},
                        lgb.Dataset(frame, y), 5)
    path = tmp_path / "model.txt"
    booster.save_model(str(path))
    with pytest.raises(crisk.CriskError) as e:
        crisk.Model(str(path))
    assert e.value.name == "CRISK_E_UNSUPPORTED"
    assert "pandas_categorical" in e.value.message


def test_models_without_categories_take_codes(tmp_path):
    """A model trained on codes stores no values: a category column still passes its
    codes, as before."""
    frame, y = training_frame()
    codes = frame.assign(origin=frame["origin"].cat.codes.replace(-1, np.nan),
                         chapter=frame["chapter"].cat.codes.replace(-1, np.nan))
    booster = xgb.train({"objective": "binary:logistic", "max_depth": 3, "nthread": 1},
                        xgb.DMatrix(codes, y), 5)
    model = crisk.Model.from_xgboost(booster)
    assert model.categories(0) is None
    origin, chapter, x = scoring_rows()
    frame = variant_frame("training-order", origin, chapter, x)
    want = booster.predict(xgb.DMatrix(frame.assign(
        origin=frame["origin"].cat.codes.replace(-1, np.nan),
        chapter=frame["chapter"].cat.codes.replace(-1, np.nan))))
    assert_scores_equal(model.predict(frame), want)


def test_c_api_contract(xgb_models, lgb_model):
    """crisk_model_category_code through the C API itself: length-delimited values (a
    value with a NUL byte or a prefix of a stored value is not that value), numbers by
    value, and CRISK_E_INVALID_ARGUMENT for NULL pointers and features storing nothing."""
    import ctypes
    from crisk_ctypes import LIB, CModel, _Error
    LIB.crisk_model_category_code.argtypes = [ctypes.c_void_p, ctypes.c_size_t,
                                              ctypes.c_char_p, ctypes.c_size_t,
                                              ctypes.POINTER(ctypes.c_float),
                                              ctypes.POINTER(_Error)]
    LIB.crisk_model_num_categories.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
    LIB.crisk_model_num_categories.restype = ctypes.c_size_t

    def code(model, feature, value):
        out, err = ctypes.c_float(-1.0), _Error()
        rc = LIB.crisk_model_category_code(model._h, feature, value, len(value),
                                           ctypes.byref(out), ctypes.byref(err))
        return rc, out.value, err.message.decode()

    xgb_model, lgb_c = CModel(xgb_models["json"]), CModel(lgb_model)
    assert code(xgb_model, 0, b"TR") == (0, ORIGINS.index("TR"), "")
    for bad in (b"TR\0", b"T", b"TRX", b"tr", b""):
        rc, _, message = code(xgb_model, 0, bad)
        assert rc == CRISK_E_INPUT and "origin" in message, bad
        rc, value, _ = code(lgb_c, 0, bad)
        assert rc == 0 and math.isnan(value), bad
    for text in (b"27", b"27.0", b"2.7e1"):
        assert code(xgb_model, 1, text)[:2] == (0, CHAPTERS.index(27))
    assert code(xgb_model, 1, b" 27")[0] == CRISK_E_INPUT
    assert code(xgb_model, 2, b"1")[0] == CRISK_E_INVALID_ARGUMENT  # x: none
    assert code(xgb_model, 3, b"1")[0] == CRISK_E_INVALID_ARGUMENT  # no feature 3
    assert LIB.crisk_model_num_categories(xgb_model._h, 3) == 0
    err = _Error()
    assert LIB.crisk_model_category_code(xgb_model._h, 0, b"TR", 2, None,
                                         ctypes.byref(err)) == CRISK_E_INVALID_ARGUMENT


def test_bundle_refuses_a_model_storing_categories(tmp_path):
    """A bundle's schema passes numbers (its own category codes), not the values a model
    stores: a bundle model trained on pandas categories is refused, naming model and
    feature, rather than scored on codes it does not know."""
    import bundle_builder as bb
    import xgboost as xgb
    directory = bb.build(tmp_path, train_rows=600)
    schema = crisk.Schema(directory / "schema.json")
    train = pd.DataFrame(bb.declarations(600, bb.TRAIN_SEED))
    X = schema.training_matrix(train, "fraud", folds=5, seed=1)[bb.FRAUD_FEATURES]
    X = X.assign(origin_code=pd.Categorical(
        [None if math.isnan(v) else f"c{int(v)}" for v in X["origin_code"]]))
    xgb.train({"objective": "binary:logistic", "max_depth": 3, "nthread": 1},
              xgb.DMatrix(X, train["fraud"].astype(int), enable_categorical=True), 3) \
        .save_model(str(directory / "fraud_xgb.json"))
    with pytest.raises(crisk.CriskError) as e:
        crisk.Bundle(directory)
    assert e.value.name == "CRISK_E_UNSUPPORTED"
    assert "(fraud)" in e.value.message and '"origin_code"' in e.value.message
