"""The Predict page against the real inference API serving a model the pipeline trained."""

from __future__ import annotations

from proyecto4_common.feature_spec import CategoricalFeature


def test_the_form_is_built_from_the_served_models_spec(ui_env, run_page, api_url, trained_model):
    ui_env(api=api_url, mlflow=trained_model.tracking_uri)
    at = run_page("predict")
    assert not at.exception
    assert not at.error
    spec = trained_model.spec
    categorical = [f for f in spec.features if isinstance(f, CategoricalFeature)]
    # Inputs are labelled with the spec's descriptions.
    dropdowns = {s.label: s for s in at.selectbox}
    assert sorted(dropdowns) == sorted(f.description for f in categorical)
    carrier = dropdowns["Airline"]
    # Airline names from the data set, with the code the model knows.
    assert "United Air Lines Inc. (UA)" in carrier.options
    assert len(carrier.options) == len(spec.feature("carrier").categories)
    # The date and the departure time stand for month, day_of_month, day_of_week and
    # sched_dep_hour/minute; every other numeric feature has its own bounded input.
    assert [d.label for d in at.date_input] == ["Flight date"]
    assert [t.label for t in at.time_input] == ["Scheduled departure"]
    numeric = {n.label: n for n in [*at.number_input, *at.slider]}
    derived = ("month", "day_of_month", "day_of_week", "sched_dep_hour", "sched_dep_minute")
    assert not {spec.feature(name).description for name in derived} & set(numeric)
    distance = spec.feature("distance")
    assert numeric[distance.description].min == distance.min
    assert numeric[distance.description].max == distance.max
    assert spec.feature("sched_arr_hour").description in numeric


def test_a_prediction_shows_category_probability_version_and_contributions(
    ui_env, run_page, api_url, trained_model
):
    ui_env(api=api_url, mlflow=trained_model.tracking_uri)
    at = run_page("predict")
    at.selectbox(key=f"v{trained_model.version}:carrier").set_value("UA")
    at.button[0].click()
    at.run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Category"] in ("on time", "delayed")
    probability = float(metrics["Probability of a delay"].rstrip("%")) / 100
    assert 0 <= probability <= 1
    assert metrics["Category"] == ("delayed" if probability >= 0.5 else "on time")
    assert metrics["Model version"] == f"flight-delay v{trained_model.version}"
    verdicts = [*at.success, *at.error]
    assert [v.value for v in verdicts] == [f"### Prediction: {metrics['Category']}"]
    assert "What drove this prediction" in [s.value for s in at.subheader]
