#!/usr/bin/env python3
"""Synthetic border sensor events (docs/events.md) for synthetic declarations.

Reads a declarations CSV (models/generate.py; its `fraud` column, when present, drives the
correlation), gives every declaration a container and a truck, and writes:
- the declarations again with two more columns, `container_id` and `conveyance_id`;
- the event stream (JSON Lines, in time order, so that every device's events arrive in
  order): per shipment an e-seal verification at loading, RFID reads at gates, GPS
  positions, sometimes an X-ray result at a scanning station, and — injected, much more
  often for fraudulent declarations — seal breaches (`seal.opened`, `seal.tampered`),
  route deviations and high X-ray anomaly scores;
- the device key file: seal readers and X-ray stations sign their events (HMAC-SHA256 over
  the canonical bytes of docs/events.md, "Signing"); RFID gates and GPS units cannot, and
  are listed one by one as `"unsigned": true` (crisk refuses the events of a device the
  file does not list).
With --drop-labels the declarations are written without the label columns (fraud,
fraud_type, revenue), for a scoring file whose events still follow the hidden labels.
With --unwatched P, a share P of the shipments (drawn independently of fraud) carries no
devices: it keeps its container and truck but reports no event, as on a border where not
every container is sealed or tracked; a model trained on such rows learns what to do when
a declaration has no events (its event features are NaN).
With --forged N, N extra events are forged: a seal breach "signed" with a wrong key for a
random clean shipment, the kind of event crisk must refuse (bad_hmac) and never trust.

Deterministic: the same input and seed give the same files, byte for byte.

    python3 models/generate.py --rows 2000 --seed 7 --output decl.csv
    python3 models/generate_events.py --declarations decl.csv --seed 7 \\
        --output-declarations decl_events.csv --events events.jsonl --keys keys.json
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
import hmac
import json
import sys

import numpy as np

UTC = dt.timezone.utc
# Stations sit in several time zones: events carry their local offset.
OFFSETS = [dt.timezone(dt.timedelta(hours=h)) for h in (0, 1, 2, 3, 8, 9, -5)]

# Probabilities per shipment: (clean, fraudulent).
P_SEAL_BREACH = (0.004, 0.22)
P_ROUTE_DEVIATION = (0.01, 0.18)
P_XRAY = (0.25, 0.45)
XRAY_BETA = ((1.5, 9.0), (4.0, 2.5))  # anomaly score ~ Beta(a, b)


def canonical(ev: dict, payload_text: str | None) -> bytes:
    """Returns the bytes an event's HMAC covers (docs/events.md, "Signing")."""
    parts = ["crisk-event-v1", ev["event_id"], ev["key"]["type"], ev["key"]["value"],
             ev["type"], ev["device_id"], ev["time"], payload_text or ""]
    return "\n".join(parts).encode("utf-8")


def event_line(ev: dict, key: bytes | None) -> str:
    """Returns the JSON line of event `ev`, signed with `key` when given. The payload is
    written once, compactly, and those very bytes are signed."""
    payload = ev.pop("payload", None)
    payload_text = (json.dumps(payload, separators=(",", ":"), sort_keys=True)
                    if payload is not None else None)
    head = json.dumps(ev, separators=(",", ":"))[:-1]
    line = head + (',"payload":' + payload_text if payload_text is not None else "")
    if key is not None:
        mac = hmac.new(key, canonical(ev, payload_text), hashlib.sha256).hexdigest()
        line += ',"hmac":"' + mac + '"'
    return line + "}"


def rfc3339(t: dt.datetime, tz: dt.timezone) -> str:
    """Returns `t` (aware) in time zone `tz` as RFC 3339 with offset, to the second."""
    s = t.astimezone(tz).replace(microsecond=0).isoformat()
    return s[:-6] + "Z" if s.endswith("+00:00") else s


def container_number(i: int, rng: np.random.Generator) -> str:
    """Returns an ISO 6346-shaped container number (owner code, serial, check digit)."""
    owner = "".join(rng.choice(list("ABCDEFGHIJKLMNOPQRSTUVWXYZ"), size=3)) + "U"
    serial = f"{(i * 7919 + int(rng.integers(0, 1000))) % 1000000:06d}"
    values = {c: v for c, v in zip("ABCDEFGHIJKLMNOPQRSTUVWXYZ",
                                   [10, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 23, 24, 25,
                                    26, 27, 28, 29, 30, 31, 32, 34, 35, 36, 37, 38])}
    code = owner + serial
    total = sum((values[c] if c.isalpha() else int(c)) * 2 ** k for k, c in enumerate(code))
    return code + str(total % 11 % 10)


def generate(decls: list[dict], seed: int, forged: int, unwatched: float = 0.0):
    """Returns (declarations with keys, event lines in time order, device keys: a key per
    signing device, None per device listed as unsigned)."""
    rng = np.random.default_rng(seed)
    # A stream of its own, so that the other draws do not depend on `unwatched`.
    watch_rng = np.random.default_rng([seed, 1])
    n_trucks = max(20, len(decls) // 3)
    seal_readers = [f"SEALRD-{k:03d}" for k in range(40)]
    xray_stations = [f"XRAY-{k:02d}" for k in range(8)]
    gates = [f"RFID-GATE-{k:02d}" for k in range(25)]
    keys = {d: bytes(rng.integers(0, 256, size=32, dtype=np.uint8))
            for d in seal_readers + xray_stations}
    keys.update({d: None for d in gates + [f"GPS-TRK-{k:05d}" for k in range(n_trucks)]})
    zone = {d: OFFSETS[int(rng.integers(0, len(OFFSETS)))]
            for d in seal_readers + xray_stations + gates}
    events = []  # (utc time, tie order, event dict, signing device or None)

    def add(t, key_type, key, etype, device, payload=None, signed=True):
        if not watched:
            return
        ev = {"event_id": f"EV{len(events):08d}", "key": {"type": key_type, "value": key},
              "type": etype, "device_id": device,
              "time": rfc3339(t, zone.get(device, UTC))}
        if payload is not None:
            ev["payload"] = payload
        events.append((t, len(events), ev, device if signed else None))

    out = []
    clean = []
    for i, d in enumerate(decls):
        fraud = int(float(d.get("fraud") or 0) > 0)
        watched = bool(watch_rng.random() >= unwatched)
        container = container_number(i, rng)
        truck = f"TRK-{int(rng.integers(0, n_trucks)):05d}"
        out.append({**d, "container_id": container, "conveyance_id": truck})
        if not fraud:
            clean.append(container)
        date = dt.datetime.fromisoformat(d["declaration_date"]).replace(tzinfo=UTC)
        # Loading 3 to 20 days before the declaration; arrival the day before it.
        load = date - dt.timedelta(days=float(rng.uniform(3, 20)))
        arrive = date - dt.timedelta(hours=float(rng.uniform(2, 30)))
        add(load, "container", container, "seal.verified",
            seal_readers[int(rng.integers(0, len(seal_readers)))])
        for k in range(int(rng.integers(1, 4))):
            t = load + (arrive - load) * float(rng.uniform(0.1, 0.9))
            add(t, "container", container, "rfid.read",
                gates[int(rng.integers(0, len(gates)))], signed=False)
        for k in range(2):
            t = load + (arrive - load) * (k + 1) / 3
            add(t, "conveyance", truck, "gps.position", f"GPS-{truck}",
                {"lat": round(float(rng.uniform(35, 55)), 4),
                 "lon": round(float(rng.uniform(-5, 30)), 4)}, signed=False)
        if rng.random() < P_ROUTE_DEVIATION[fraud]:
            t = load + (arrive - load) * float(rng.uniform(0.2, 0.8))
            add(t, "conveyance", truck, "gps.route_deviation", f"GPS-{truck}",
                {"value": round(float(rng.uniform(2, 80)), 1)}, signed=False)
        if rng.random() < P_SEAL_BREACH[fraud]:
            t = load + (arrive - load) * float(rng.uniform(0.3, 0.9))
            kind = "seal.tampered" if rng.random() < 0.6 else "seal.opened"
            add(t, "container", container, kind,
                seal_readers[int(rng.integers(0, len(seal_readers)))])
        else:
            add(arrive, "container", container, "seal.verified",
                seal_readers[int(rng.integers(0, len(seal_readers)))])
        if rng.random() < P_XRAY[fraud]:
            a, b = XRAY_BETA[fraud]
            score = round(float(rng.beta(a, b)), 3)
            hits = ["organic_density"] if score > 0.6 else []
            add(arrive + dt.timedelta(hours=1), "container", container, "xray.result",
                xray_stations[int(rng.integers(0, len(xray_stations)))],
                {"anomaly_score": score, "hits": hits})
    events.sort(key=lambda e: (e[0], e[1]))
    lines = [event_line(ev, keys[dev] if dev else None) for _, _, ev, dev in events]
    # Forged breaches: signed with a key the device does not have, so refused (bad_hmac).
    for k in range(min(forged, len(clean))):
        container = clean[int(rng.integers(0, len(clean)))]
        last = events[-1][0] + dt.timedelta(minutes=k + 1)
        ev = {"event_id": f"FORGED{k:04d}", "key": {"type": "container", "value": container},
              "type": "seal.tampered", "device_id": seal_readers[0],
              "time": rfc3339(last, zone[seal_readers[0]])}
        lines.append(event_line(ev, b"not-the-device-key-0123456789abc"))
    return out, lines, keys


def key_file(keys: dict) -> dict:
    """Returns the device key file (docs/events.md, "Device keys") of `keys` (device id:
    its key, or None for a device listed as unsigned)."""
    return {"format": "crisk-device-keys", "version": 1,
            "devices": [{"device_id": d, "key": k.hex()} if k is not None
                        else {"device_id": d, "unsigned": True} for d, k in keys.items()]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--declarations", required=True, help="CSV from models/generate.py")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--forged", type=int, default=3, help="forged events to append")
    ap.add_argument("--unwatched", type=float, default=0.0,
                    help="share of shipments that report no event (default 0)")
    ap.add_argument("--output-declarations", required=True,
                    help="the declarations with container_id and conveyance_id")
    ap.add_argument("--events", required=True, help="event stream (JSON Lines)")
    ap.add_argument("--keys", required=True, help="device key file (JSON)")
    ap.add_argument("--drop-labels", action="store_true",
                    help="write the declarations without fraud, fraud_type, revenue")
    a = ap.parse_args(argv)
    with open(a.declarations, newline="") as f:
        reader = csv.DictReader(f)
        fields = list(reader.fieldnames or [])
        decls = list(reader)
    out, lines, keys = generate(decls, a.seed, a.forged, a.unwatched)
    if a.drop_labels:
        fields = [c for c in fields if c not in ("fraud", "fraud_type", "revenue")]
    with open(a.output_declarations, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields + ["container_id", "conveyance_id"],
                           lineterminator="\n", extrasaction="ignore")
        w.writeheader()
        w.writerows(out)
    with open(a.events, "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(a.keys, "w") as f:
        json.dump(key_file(keys), f, indent=1)
        f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
