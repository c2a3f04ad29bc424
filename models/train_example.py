"""Trains the feature-level example model (models/example-features/): one XGBoost model
scored straight from a CSV of feature values with `crisk predict`.

A synthetic, customs-flavoured binary task: each row is one declaration line, the label is
"the declaration was found fraudulent". Eight named numeric features, some missing (NaN).
Writes, in models/example-features/:
    fraud_xgb.json   XGBoost binary:logistic, 50 trees of depth <= 4, feature names
    features.csv     200 held-out declarations to score (header + rows; a missing
                     value is an empty cell)
Run from anywhere: `python3 models/train_example.py` (xgboost 3.x, numpy, pandas).
"""
from pathlib import Path

import numpy as np
import pandas as pd
import xgboost as xgb

HERE = Path(__file__).resolve().parent / "example-features"
FEATURES = ["declared_value_eur", "net_mass_kg", "unit_value_eur_per_kg", "tax_rate_pct",
            "quantity", "origin_risk", "importer_age_days", "prior_inspections"]
TRAIN_ROWS, SCORE_ROWS = 3000, 200


def make_declarations(rng: np.random.Generator, n: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Returns n synthetic declarations and their fraud labels."""
    mass = np.round(rng.lognormal(4.0, 1.5, n) + 0.1, 1)
    unit = np.round(rng.lognormal(3.0, 1.0, n), 2)
    value = np.round(mass * unit, 2)
    tax = rng.choice([0.0, 2.4, 5.2, 6.5, 8.0, 13.0, 27.0], n)
    quantity = rng.integers(1, 500, n).astype(float)
    origin = np.round(rng.beta(2, 5, n), 3)
    age = rng.integers(1, 5000, n).astype(float)
    inspections = rng.poisson(1.0, n).astype(float)
    # Fraud: under-valuation (low unit value) on high-tax goods, risky origins, new importers.
    logit = (-2.0 - 1.2 * (np.log(unit) - 3.0) + 0.08 * tax + 3.0 * origin
             - 0.0004 * age + 0.3 * inspections)
    label = (rng.random(n) < 1.0 / (1.0 + np.exp(-logit))).astype(int)
    X = pd.DataFrame({"declared_value_eur": value, "net_mass_kg": mass,
                      "unit_value_eur_per_kg": unit, "tax_rate_pct": tax,
                      "quantity": quantity, "origin_risk": origin,
                      "importer_age_days": age, "prior_inspections": inspections})
    # Some values are missing, as on real declarations (not always declared or known).
    for column, rate in [("net_mass_kg", 0.05), ("unit_value_eur_per_kg", 0.05),
                         ("origin_risk", 0.10), ("prior_inspections", 0.15)]:
        X.loc[rng.random(n) < rate, column] = np.nan
    return X[FEATURES], label


def main() -> None:
    rng = np.random.default_rng(20240611)
    X, y = make_declarations(rng, TRAIN_ROWS + SCORE_ROWS)
    train, score = slice(0, TRAIN_ROWS), slice(TRAIN_ROWS, None)
    model = xgb.XGBClassifier(n_estimators=50, max_depth=4, learning_rate=0.2,
                              objective="binary:logistic", tree_method="hist", n_jobs=1,
                              random_state=0)
    model.fit(X.iloc[train], y[train])
    HERE.mkdir(exist_ok=True)
    model.get_booster().save_model(HERE / "fraud_xgb.json")
    X.iloc[score].to_csv(HERE / "features.csv", index=False, na_rep="", lineterminator="\n")


if __name__ == "__main__":
    main()
