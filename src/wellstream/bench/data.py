"""Synthetic raw records shaped like real ones: many wells, monthly and daily periods,
rates and unit-bearing volumes, a few odd but real values."""

import random

import orjson


def raw_records(
    count: int, *, seed: int = 7, prefix: str = "BW", source: str = "bench"
) -> list[bytes]:
    rng = random.Random(seed)
    wells = max(1, count // 120)
    out = []
    for i in range(count):
        well = f"{prefix}-{i % wells:05d}"
        month = i // wells
        year, mon = 2000 + month // 12, month % 12 + 1
        record: dict[str, object] = {
            "well_code": well,
            "production_period": f"{year}-{mon:02d}",
            "field_code": f"F{i % wells % 40}",
            "days_on_production": rng.randint(20, 28),
            "data_source": source,
        }
        if i % 3:
            record |= {
                "oil_production_kbd": round(rng.uniform(0, 5), 4),
                "gas_production_mmcfd": round(rng.uniform(0, 20), 4),
                "water_production_kbd": str(round(rng.uniform(0, 3), 4)),
            }
        else:
            record["volumes"] = {
                "oil": {"value": round(rng.uniform(0, 9000), 2), "unit": "Sm3"},
                "gas": {"value": round(rng.uniform(0, 1e6), 1), "unit": "Sm3"},
                "water": {"value": round(rng.uniform(0, 4000), 2), "unit": "m3"},
            }
        out.append(orjson.dumps(record))
    return out
