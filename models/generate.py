#!/usr/bin/env python3
"""Synthetic customs import declarations, with known fraud, for crisk's bundled example.

The world it simulates:
- Goods: HS6 codes grouped in chapters, each with a reference unit value (value per kg,
  log-normal around a chapter level) that also depends on the origin, and a tariff rate.
- Origins: countries with a price factor; a few "preferential" origins pay no duty under a
  trade agreement, which makes origin fraud pay.
- Importers: firms with a latent honesty that drives how often they cheat, a size that
  drives how often they declare, and a small set of goods they trade; each uses one or two
  declarants (customs brokers), some of which are careless or complicit.
- Offices: where the declaration is lodged; a few see more fraud.

Fraud patterns, each leaving traces a model can learn and a profile can test:
- undervaluation: the declared value is cut to 20-60% of the true value (unit value far
  below the band of its HS6 x origin);
- misclassification: the goods are declared under a cheaper HS code of the same chapter;
- origin fraud: a preferential origin is declared for goods made elsewhere.
Each declaration carries its label (`fraud`, 0/1), the pattern (`fraud_type`) and the duty
lost (`revenue`, in the declaration's currency), so that evaluation can report revenue
recovered at each inspection rate.

Deterministic: the same seed gives the same file, byte for byte.

    python3 models/generate.py --rows 50000 --seed 7 --output train.csv
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import sys

import numpy as np

FIELDS = ["declaration_id", "declaration_date", "hs_code", "origin", "importer_id",
          "declarant_id", "office", "declared_value", "net_mass_kg", "items", "tax_rate"]
LABELS = ["fraud", "fraud_type", "revenue"]


def make_world(rng: np.random.Generator) -> dict:
    """Returns the fixed entities: goods, origins, importers, declarants, offices."""
    chapters = rng.choice(np.arange(1, 98), size=24, replace=False)
    hs6, chapter_of, ref_unit_value, tariff = [], [], [], []
    for ch in chapters:
        level = rng.lognormal(mean=2.0, sigma=1.2)
        base_tariff = rng.choice([0.0, 0.03, 0.06, 0.08, 0.13, 0.2])
        for _ in range(rng.integers(3, 9)):
            code = f"{ch:02d}{rng.integers(1, 100):02d}{rng.integers(1, 100):02d}"
            hs6.append(code)
            chapter_of.append(ch)
            ref_unit_value.append(level * rng.lognormal(0.0, 0.5))
            tariff.append(max(0.0, base_tariff + rng.choice([-0.03, 0.0, 0.0, 0.04])))
    hs6 = np.array(hs6)
    origins = np.array(["CN", "VN", "IN", "DE", "US", "TR", "BD", "TH", "MX", "KR", "JP",
                        "IT", "MY", "ID", "PK", "EG"])
    price_factor = rng.lognormal(0.0, 0.3, size=len(origins))
    preferential = np.isin(origins, ["VN", "MX", "EG", "BD"])
    origin_weight = rng.dirichlet(np.full(len(origins), 1.5))
    n_importers = 1500
    honesty = rng.beta(8, 1.2, size=n_importers)           # most are honest
    size = rng.pareto(1.5, size=n_importers) + 1.0
    n_declarants = 120
    complicit = rng.random(n_declarants) < 0.08
    importer_declarants = [rng.choice(n_declarants, size=rng.integers(1, 3), replace=False)
                           for _ in range(n_importers)]
    importer_goods = [rng.choice(len(hs6), size=rng.integers(2, 12), replace=False)
                      for _ in range(n_importers)]
    offices = np.array([f"OF{i:02d}" for i in range(12)])
    office_laxity = rng.beta(2, 8, size=len(offices))
    return dict(hs6=hs6, chapter_of=np.array(chapter_of), ref_unit_value=np.array(ref_unit_value),
                tariff=np.array(tariff), origins=origins, price_factor=price_factor,
                preferential=preferential, origin_weight=origin_weight, honesty=honesty,
                size=size / size.sum(), complicit=complicit,
                importer_declarants=importer_declarants, importer_goods=importer_goods,
                offices=offices, office_laxity=office_laxity)


def generate(rows: int, seed: int, start: dt.date, days: int) -> tuple[list[dict], dict]:
    """Returns `rows` declarations (dicts of FIELDS and LABELS) and the world they come from."""
    world_rng = np.random.default_rng(20261127)   # one world, whatever the sample seed
    world = make_world(world_rng)
    rng = np.random.default_rng(seed)
    hs6, tariff = world["hs6"], world["tariff"]
    importers = rng.choice(len(world["honesty"]), size=rows, p=world["size"])
    out = []
    for i, imp in enumerate(importers):
        goods = rng.choice(world["importer_goods"][imp])
        origin = rng.choice(len(world["origins"]), p=world["origin_weight"])
        declarant = rng.choice(world["importer_declarants"][imp])
        office = rng.integers(len(world["offices"]))
        mass = float(rng.lognormal(5.0, 1.3))
        items = int(max(1, round(mass / rng.lognormal(1.0, 0.8))))
        true_value = mass * world["ref_unit_value"][goods] * world["price_factor"][origin] \
            * rng.lognormal(0.0, 0.25)
        # How likely this declaration is fraudulent: the importer's honesty, a complicit
        # broker, a lax office, and dutiable goods (fraud pays only where duty is due).
        p = (1 - world["honesty"][imp]) * 0.9 + 0.12 * world["complicit"][declarant] \
            + 0.05 * world["office_laxity"][office]
        p *= 0.3 + 3.0 * tariff[goods]
        fraud_type = ""
        declared_goods, declared_origin, declared_value = goods, origin, true_value
        if rng.random() < min(p, 0.9):
            kind = rng.choice(["undervaluation", "misclassification", "origin"], p=[0.55, 0.25, 0.2])
            if kind == "undervaluation":
                declared_value = true_value * rng.uniform(0.2, 0.6)
            elif kind == "misclassification":
                same = np.flatnonzero((world["chapter_of"] == world["chapter_of"][goods])
                                      & (tariff < tariff[goods]))
                if same.size:
                    declared_goods = int(rng.choice(same))
            else:
                pref = np.flatnonzero(world["preferential"])
                if not world["preferential"][origin]:
                    declared_origin = int(rng.choice(pref))
            changed = (declared_value != true_value or declared_goods != goods
                       or declared_origin != origin)
            fraud_type = kind if changed else ""
        duty_true = true_value * tariff[goods] * (0.0 if world["preferential"][origin] else 1.0)
        declared_rate = tariff[declared_goods] * (0.0 if world["preferential"][declared_origin] else 1.0)
        duty_declared = declared_value * declared_rate
        date = start + dt.timedelta(days=int(rng.integers(days)))
        hs_digits = hs6[declared_goods] + f"{rng.integers(0, 100):02d}"
        out.append({
            "declaration_id": f"D{seed:03d}{i:07d}",
            "declaration_date": date.isoformat(),
            "hs_code": f"{hs_digits[:4]}.{hs_digits[4:6]}.{hs_digits[6:]}",
            "origin": world["origins"][declared_origin],
            "importer_id": f"IMP{imp:05d}",
            "declarant_id": f"DCL{declarant:04d}",
            "office": world["offices"][office],
            "declared_value": f"{declared_value:.2f}",
            "net_mass_kg": f"{mass:.1f}",
            "items": str(items),
            "tax_rate": f"{declared_rate:.2f}",
            "fraud": "1" if fraud_type else "0",
            "fraud_type": fraud_type,
            "revenue": f"{max(0.0, duty_true - duty_declared):.2f}" if fraud_type else "0.00",
        })
    return out, world


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=50000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--start", default="2025-01-01", help="first declaration date")
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--output", default="-", help="CSV file (default stdout)")
    ap.add_argument("--no-labels", action="store_true",
                    help="leave out fraud, fraud_type and revenue (declarations to score)")
    args = ap.parse_args(argv)
    rows, _ = generate(args.rows, args.seed, dt.date.fromisoformat(args.start), args.days)
    columns = FIELDS if args.no_labels else FIELDS + LABELS
    f = sys.stdout if args.output == "-" else open(args.output, "w", newline="")
    with f:
        w = csv.DictWriter(f, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
