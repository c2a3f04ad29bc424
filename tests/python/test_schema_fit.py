"""crisk's declaration features against an independent pandas implementation of the
definitions in docs/schema.md: table-free ops, category codes, smoothed risk rates and
counts (scoring, from a fit), the out-of-fold training matrix given the documented fold
rule, and the fitted unit-value bands."""
import json

import numpy as np
import pandas as pd
import pytest

from crisk_ctypes import CriskError
from crisk_decl_ctypes import CSchema

FIELDS = ["declaration_id", "declaration_date", "hs_code", "origin", "importer_id",
          "office", "declared_value", "net_mass_kg"]

SCHEMA = {
    "format": "crisk-schema", "version": 1,
    "id_field": "declaration_id", "date_field": "declaration_date",
    "fields": [
        {"name": "declaration_id", "type": "string", "required": True},
        {"name": "declaration_date", "type": "date", "required": True},
        {"name": "hs_code", "type": "hs_code"},
        {"name": "origin", "type": "string"},
        {"name": "importer_id", "type": "string", "personal": True},
        {"name": "office", "type": "string"},
        # Negative on purpose, for log1p and ratio below -1 and 0: no valid range.
        {"name": "declared_value", "type": "number", "range": [None, None]},
        {"name": "net_mass_kg", "type": "number"}],
    "features": [
        {"name": "declared_value", "op": "number", "field": "declared_value"},
        {"name": "log_value", "op": "log1p", "field": "declared_value"},
        {"name": "unit_value", "op": "ratio", "num": "declared_value", "den": "net_mass_kg"},
        {"name": "year", "op": "date_part", "field": "declaration_date", "part": "year"},
        {"name": "month", "op": "date_part", "field": "declaration_date", "part": "month"},
        {"name": "day", "op": "date_part", "field": "declaration_date", "part": "day"},
        {"name": "weekday", "op": "date_part", "field": "declaration_date", "part": "weekday"},
        {"name": "dayofyear", "op": "date_part", "field": "declaration_date",
         "part": "dayofyear"},
        {"name": "hs2", "op": "hs_prefix", "field": "hs_code", "digits": 2},
        {"name": "hs6", "op": "hs_prefix", "field": "hs_code", "digits": 6},
        {"name": "origin_code", "op": "category", "field": "origin", "unknown": "missing"},
        {"name": "office_code", "op": "category", "field": "office", "unknown": "code"},
        {"name": "importer_rate", "op": "risk_rate", "keys": ["importer_id"], "smoothing": 20},
        {"name": "importer_count", "op": "risk_count", "keys": ["importer_id"]},
        {"name": "hs6_origin_rate", "op": "risk_rate",
         "keys": [{"field": "hs_code", "digits": 6}, "origin"]},
        {"name": "office_importer_rate", "op": "risk_rate", "keys": ["office", "importer_id"],
         "smoothing": 5}],
    "bands": [{"name": "unit_value_band", "feature": "unit_value",
               "keys": [{"field": "hs_code", "digits": 6}, "origin"],
               "low_quantile": 0.05, "high_quantile": 0.95, "min_count": 5}]}

DEFAULT_M = 7.5  # the fit option's smoothing, for hs6_origin_rate
RISK = {"importer_rate": (["importer_id"], 20.0),
        "hs6_origin_rate": (["hs6_key", "origin"], DEFAULT_M),
        "office_importer_rate": (["office", "importer_id"], 5.0)}


def declarations(n, seed):
    """n synthetic declarations (text, as a reader would give them) and their labels."""
    rng = np.random.default_rng(seed)
    importers = np.array([f"IMP{i:04d}" for i in range(150)])
    hs = np.array([f"{rng.integers(1, 97):02d}{rng.integers(0, 10000):04d}"
                   f"{rng.integers(0, 100):02d}" for _ in range(40)])
    origins = np.array(["CN", "US", "DE", "VN", "KR", "JP", "ZO\"E", "IT"])
    offices = np.array(["10", "20", "30", "40"])
    rows = []
    for i in range(n):
        h = hs[rng.integers(0, len(hs))]
        if rng.random() < 0.3:
            h = f"{h[:4]}.{h[4:6]}.{h[6:]}"
        elif rng.random() < 0.05:
            h = h[:4]  # short code: no 6-digit prefix
        date = pd.Timestamp("2019-12-25") + pd.Timedelta(days=int(rng.integers(0, 900)))
        value = rng.lognormal(8, 2)
        mass = rng.lognormal(3, 1)
        rows.append([
            f"D{i}",
            date.strftime("%Y-%m-%d") if rng.random() < 0.7 else date.strftime("%Y%m%d"),
            h if rng.random() > 0.03 else None,
            origins[rng.integers(0, len(origins))] if rng.random() > 0.05 else None,
            importers[min(int(rng.zipf(1.5)), len(importers)) - 1]
            if rng.random() > 0.05 else "",
            offices[rng.integers(0, len(offices))],
            f"{value:.2f}" if rng.random() > 0.03 else f"{-rng.random() * 3:.3f}",
            f"{mass:.3f}" if rng.random() > 0.05 else rng.choice(["0", ""]),
        ])
    imp_risk = {imp: rng.beta(1, 8) for imp in importers}
    labels = np.array([float(rng.random() < imp_risk.get(r[4], 0.1)) for r in rows],
                      dtype=np.float32)
    return rows, labels


def frame(rows):
    """The rows as pandas columns with the definitions' parsing."""
    df = pd.DataFrame(rows, columns=FIELDS).replace({"": None})
    df["value"] = pd.to_numeric(df.declared_value)
    df["mass"] = pd.to_numeric(df.net_mass_kg)
    df["date"] = pd.to_datetime(df.declaration_date.str.replace("-", ""), format="%Y%m%d")
    df["hs_digits"] = df.hs_code.str.replace(".", "", regex=False)
    df["hs6_key"] = df.hs_digits.where(df.hs_digits.str.len() >= 6).str[:6]
    return df


def fold_of(i, seed, folds):
    """The documented fold rule: splitmix64 output of seed + (i + 1) * golden gamma."""
    mask = (1 << 64) - 1
    z = (seed + (i + 1) * 0x9E3779B97F4A7C15) & mask
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
    z ^= z >> 31
    return z % folds


def table_free(df):
    """Every feature that needs no fitted state, as float32 columns."""
    v, m = df.value, df.mass
    with np.errstate(invalid="ignore", divide="ignore"):
        out = {
            "declared_value": v,
            "log_value": np.where(v > -1, np.log1p(v.where(v > -1, 0)), np.nan),
            "unit_value": np.where(v.notna() & (m > 0), v / m.where(m > 0, 1), np.nan),
            "year": df.date.dt.year, "month": df.date.dt.month, "day": df.date.dt.day,
            "weekday": df.date.dt.day_of_week, "dayofyear": df.date.dt.day_of_year,
        }
    for name, d in (("hs2", 2), ("hs6", 6)):
        s = df.hs_digits
        out[name] = pd.to_numeric(s.where(s.str.len() >= d).str[:d])
    return {k: np.asarray(val, dtype=np.float64).astype(np.float32) for k, val in out.items()}


def risk_features(train, labels, target, m_by_name):
    """Smoothed rates and counts of `target`'s keys from `train`'s labels."""
    train = train.assign(y=labels.astype(np.float64))
    prior = train.y.mean()
    out = {}
    for name, (keys, m) in m_by_name.items():
        stats = train.dropna(subset=keys).groupby(keys).y.agg(["count", "sum"])
        joined = target[keys].merge(stats, left_on=keys, right_index=True, how="left")
        count = joined["count"].fillna(0).to_numpy()
        pos = joined["sum"].fillna(0).to_numpy()
        with np.errstate(invalid="ignore", divide="ignore"):
            rate = np.where(count == 0, prior, (pos + m * prior) / (count + m))
        out[name] = rate.astype(np.float32)
        if name == "importer_rate":
            out["importer_count"] = count.astype(np.float32)
    return out


def compare(crisk, expected, names, what):
    for name, col in expected.items():
        got = crisk[:, names.index(name)]
        if name in ("declared_value", "unit_value", "year", "month", "day", "weekday",
                    "dayofyear", "hs2", "hs6", "importer_count", "origin_code", "office_code"):
            np.testing.assert_array_equal(got, col, err_msg=f"{what}: {name}")
        else:  # log1p and rates: libm and numpy may differ in the last bit
            np.testing.assert_allclose(got, col, rtol=2e-7, atol=0, err_msg=f"{what}: {name}")


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    path = tmp_path_factory.mktemp("schema") / "schema.json"
    path.write_text(json.dumps(SCHEMA))
    rows, labels = declarations(3000, 11)
    new_rows, _ = declarations(800, 12)
    return path, rows, labels, new_rows


def test_scoring_features_match_pandas(data, tmp_path):
    path, rows, labels, new_rows = data
    schema = CSchema(path)
    train = schema.batch(rows)
    schema.fit(train, labels, smoothing=DEFAULT_M)
    test = schema.batch(new_rows)
    X = schema.features(test)
    names = schema.feature_names
    df, tf = frame(rows), frame(new_rows)
    expected = table_free(tf)
    expected.update(risk_features(df, labels, tf, RISK))
    # Codes in order of first appearance in the fit rows; unseen: NaN or n.
    for feat, col, unknown_code in (("origin_code", "origin", False),
                                    ("office_code", "office", True)):
        codes, uniques = pd.factorize(df[col])
        mapping = {u: i for i, u in enumerate(uniques)}
        mapped = tf[col].map(mapping)
        if unknown_code:
            mapped = mapped.where(tf[col].isna() | mapped.notna(), len(uniques))
        expected[feat] = mapped.to_numpy(dtype=np.float64).astype(np.float32)
    compare(X, expected, names, "scoring")
    assert np.isnan(X[:, names.index("origin_code")]).any() or tf.origin.isna().sum() == 0

    # Saved and loaded: the same features, bit for bit.
    saved = tmp_path / "fitted.json"
    schema.save(saved)
    again = CSchema(saved)
    np.testing.assert_array_equal(again.features(again.batch(new_rows)).view(np.uint32),
                                  X.view(np.uint32))


def test_training_matrix_is_out_of_fold(data):
    path, rows, labels, _ = data
    schema = CSchema(path)
    batch = schema.batch(rows)
    folds, seed = 4, 20261127
    T = schema.training_matrix(batch, labels, folds=folds, seed=seed, smoothing=DEFAULT_M)
    df = frame(rows)
    fold = np.array([fold_of(i, seed, folds) for i in range(len(rows))])
    names = schema.feature_names
    expected = {name: np.empty(len(rows), dtype=np.float32)
                for name in list(RISK) + ["importer_count"]}
    for f in range(folds):
        inside = fold == f
        part = risk_features(df[~inside], labels[~inside], df[inside], RISK)
        for name, col in part.items():
            expected[name][inside] = col
    expected.update(table_free(df))
    compare(T, expected, names, "out-of-fold")
    # Category codes come from the whole batch's dictionary, as a fit would make it.
    codes, _ = pd.factorize(df.origin)
    np.testing.assert_array_equal(T[:, names.index("origin_code")],
                                  np.where(codes < 0, np.nan, codes).astype(np.float32))


def test_bands_are_numpy_quantiles(data, tmp_path):
    path, rows, labels, _ = data
    schema = CSchema(path)
    schema.fit(schema.batch(rows), labels)
    saved = tmp_path / "fitted.json"
    schema.save(saved)
    fitted = json.loads(saved.read_text())["fitted"]
    (band,) = fitted["bands"]
    got = {(e[0], e[1]): (e[2], e[3]) for e in band["entries"]}
    df = frame(rows)
    df["uv"] = table_free(df)["unit_value"]
    groups = df.dropna(subset=["hs6_key", "origin", "uv"]).groupby(["hs6_key", "origin"]).uv
    expected = {k: (np.quantile(v.to_numpy(np.float64), 0.05),
                    np.quantile(v.to_numpy(np.float64), 0.95))
                for k, v in groups if len(v) >= 5}
    assert got.keys() == expected.keys() and len(got) > 5
    for k, (lo, hi) in expected.items():
        assert got[k][0] == pytest.approx(lo, rel=1e-12), k
        assert got[k][1] == pytest.approx(hi, rel=1e-12), k
    assert fitted["rows"] == len(rows) and fitted["positives"] == int(labels.sum())


def test_rejected_rows_say_why(data):
    path = data[0]
    batch = CSchema(path).batch()
    good = ["D1", "2024-01-01", "8517.12", "CN", "I1", "10", "12.5", "3"]
    bad = list(good)
    bad[6] = "12,5x"
    with pytest.raises(CriskError, match='field "declared_value": "12,5x" is not a number'):
        batch.append(bad)
    bad = list(good)
    bad[3] = b"C\xc3"
    with pytest.raises(CriskError, match="is not valid UTF-8"):
        batch.append(bad)
    batch.append(good)
    assert len(batch) == 1
