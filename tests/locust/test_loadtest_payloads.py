"""Payloads follow the feature spec: valid records pass the API's encoder, invalid ones don't."""

import json
import random
from collections import Counter

import pytest
from loadtest.payloads import RecordGenerator, load_sample_rows
from proyecto4_common.feature_spec import (
    CategoricalFeature,
    FeatureSpec,
    NumericFeature,
    RecordError,
    Reference,
)

N = 4000


@pytest.fixture
def spec() -> FeatureSpec:
    return FeatureSpec(
        model_name="flight-delay",
        target="delayed",
        features=[
            NumericFeature(
                name="hour",
                kind="integer",
                min=5,
                max=23,
                reference=Reference(edges=[5, 10, 15, 23], fractions=[0.6, 0.3, 0.1]),
            ),
            NumericFeature(
                name="temp",
                kind="number",
                min=10.0,
                max=100.0,
                nullable=True,
                # Open outer edges: the draw must still stay within min/max.
                reference=Reference(edges=[-1e9, 50.0, 1e9], fractions=[0.2, 0.7], missing=0.1),
            ),
            NumericFeature(name="distance", kind="number", min=17.0, max=4983.0),
            CategoricalFeature(
                name="carrier",
                categories=["UA", "B6", "EV"],
                reference=Reference(fractions=[0.5, 0.4, 0.1]),
            ),
            CategoricalFeature(
                name="origin",
                categories=["EWR", "JFK", "LGA"],
                # A non-nullable feature never gets a null, whatever the reference says.
                reference=Reference(fractions=[0.3, 0.3, 0.3], missing=0.1),
            ),
        ],
    )


@pytest.fixture
def generator(spec) -> RecordGenerator:
    return RecordGenerator(spec, rng=random.Random(7))


def test_every_record_passes_the_api_encoder(spec, generator):
    records = generator.records(N)

    matrix = spec.encoder().encode(records)

    assert matrix.shape == (N, len(spec.features))
    assert all(set(r) == set(spec.names) for r in records)


def test_numbers_stay_within_min_and_max_and_integers_are_ints(generator):
    records = generator.records(N)

    hours = [r["hour"] for r in records]
    temps = [r["temp"] for r in records if r["temp"] is not None]
    distances = [r["distance"] for r in records]
    assert all(isinstance(h, int) and 5 <= h <= 23 for h in hours)
    assert all(10.0 <= t <= 100.0 for t in temps)
    assert all(17.0 <= d <= 4983.0 for d in distances)


def test_numbers_follow_the_reference_histogram(generator):
    hours = [r["hour"] for r in generator.records(N)]

    share_before_10 = sum(h < 10 for h in hours) / N
    share_from_15 = sum(h > 15 for h in hours) / N
    assert 0.45 < share_before_10 < 0.65
    assert share_from_15 < 0.12


def test_categories_follow_the_reference_fractions(generator):
    counts = Counter(r["carrier"] for r in generator.records(N))

    assert set(counts) == {"UA", "B6", "EV"}
    assert counts["UA"] > counts["B6"] > counts["EV"]
    assert 0.05 < counts["EV"] / N < 0.15


def test_nulls_only_where_the_spec_allows_them(generator):
    records = generator.records(N)

    null_temps = sum(r["temp"] is None for r in records) / N
    assert 0.05 < null_temps < 0.15
    assert all(r["origin"] is not None for r in records)


def test_every_invalid_body_is_refused_by_the_api_encoder(spec, generator):
    encoder = spec.encoder()

    bodies = [generator.invalid() for _ in range(200)]

    for body in bodies:
        with pytest.raises(RecordError):
            encoder.encode([body])
    kinds = {json.dumps(b)[:1] for b in bodies}
    assert kinds == {"{", '"'}


def test_sample_rows_are_reduced_to_the_spec_and_repaired(spec, tmp_path):
    rows = [
        {
            "hour": 7,
            "temp": None,
            "distance": 1400.0,
            "carrier": "EV",
            "origin": "LGA",
            "arr_delay": 33,
            "tailnum": "N14228",
        },
        {"hour": 30, "temp": 55.5, "distance": 200.0, "carrier": "ZZ", "origin": "JFK"},
    ]
    sample = tmp_path / "rows.json"
    sample.write_text(json.dumps({"group": 1, "date": "2013-01-01", "rows": rows}))

    generator = RecordGenerator(spec, sample_rows=load_sample_rows(sample), rng=random.Random(1))
    records = generator.records(100)

    spec.encoder().encode(records)
    assert all(set(r) == set(spec.names) for r in records)
    first = [r for r in records if r["distance"] == 1400.0]
    second = [r for r in records if r["distance"] == 200.0]
    assert first and second
    assert first[0] == {
        "hour": 7,
        "temp": None,
        "distance": 1400.0,
        "carrier": "EV",
        "origin": "LGA",
    }
    # Out-of-range hour and unknown carrier are redrawn; the valid values are kept.
    assert all(r["temp"] == 55.5 and r["origin"] == "JFK" for r in second)
    assert all(5 <= r["hour"] <= 23 and r["carrier"] in {"UA", "B6", "EV"} for r in second)


def test_sample_rows_read_from_json_lines(tmp_path):
    sample = tmp_path / "rows.jsonl"
    sample.write_text('{"hour": 7}\n\n{"hour": 8}\n')

    rows = load_sample_rows(sample)

    assert rows == [{"hour": 7}, {"hour": 8}]


def test_replayed_rows_keep_a_valid_key_and_drop_a_malformed_one(spec):
    key = {"flight": {"date": "2013-03-01", "carrier": "UA", "number": 1545, "origin": "EWR"}}
    rows = [{"hour": 7, "temp": 50.0, "key": key}, {"hour": 8, "temp": 51.0, "key": {"x": 1}}]

    fitted = RecordGenerator(spec, sample_rows=rows, rng=random.Random(1))._rows

    assert fitted[0]["key"] == key
    assert "key" not in fitted[1]
    encoder = spec.encoder()
    for row in fitted:
        encoder.encode([{k: v for k, v in row.items() if k != "key"}])
