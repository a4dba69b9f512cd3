"""Predict: a form built from the served model's feature spec, and the API's answer."""

from __future__ import annotations

import streamlit as st
from proyecto4_common.feature_spec import CategoricalFeature, FeatureSpec, NumericFeature
from streamlit_app import charts, form, states
from streamlit_app.api_client import (
    ApiRejected,
    ApiUnavailable,
    InferenceApi,
    NoModelLoaded,
    Prediction,
    ServedModel,
)
from streamlit_app.registry import MlflowUnavailable, Registry, production
from streamlit_app.settings import UISettings

TOP_CONTRIBUTIONS = 10
RESULT_KEY = "last_prediction"


def main() -> None:
    settings = UISettings()
    api = settings.inference_api()
    st.title("Will this flight be delayed?")
    st.caption("Arrival more than 15 minutes late, predicted by the model in production.")
    try:
        served = api.served_model()
    except ApiUnavailable as exc:
        states.api_down(settings.inference_api_url, str(exc))
        return
    except NoModelLoaded as exc:
        offer_to_load(api, settings, str(exc))
        return

    submitted = draw_form(served)
    if submitted is not None:
        try:
            st.session_state[RESULT_KEY] = (served.spec, submitted, api.predict(submitted))
        except ApiRejected as exc:
            st.error(f"**The API refused this flight:** {exc}")
        except ApiUnavailable as exc:
            states.api_down(settings.inference_api_url, str(exc))
    if RESULT_KEY in st.session_state:
        show_result(*st.session_state[RESULT_KEY])


def offer_to_load(api: InferenceApi, settings: UISettings, reason: str) -> None:
    try:
        in_production = production(
            Registry(settings.mlflow_tracking_uri, settings.ui_request_timeout_s).versions()
        )
    except MlflowUnavailable:
        in_production = None  # unknown: let the API try, it says what is wrong
    else:
        if in_production is None:
            states.no_model_in_production()
            return
    states.no_model_loaded(reason, can_load=settings.can_load_models)
    if settings.can_load_models and st.button("Load the production model", type="primary"):
        try:
            api.load_model()
        except (ApiRejected, ApiUnavailable) as exc:
            st.error(f"**The API could not load the production model:** {exc}")
        else:
            st.rerun()


def draw_form(served: ServedModel) -> dict | None:
    """Draws the inputs; returns the record when the form was submitted."""
    spec, plan = served.spec, form.plan(served.spec)
    key = f"v{served.version}"
    with st.form("predict"):
        date = time = None
        if plan.has_date or plan.has_time:
            when = st.columns(2)
            if plan.has_date:
                bounds = form.date_bounds(spec)
                date = when[0].date_input(
                    "Flight date",
                    value=form.default_date(spec),
                    min_value=bounds[0] if bounds else None,
                    max_value=bounds[1] if bounds else None,
                    key=f"{key}:date",
                    help="Sets " + ", ".join(plan.date_features),
                )
            if plan.has_time:
                time = when[1].time_input(
                    "Scheduled departure",
                    value=form.default_time(spec, plan),
                    step=300,
                    key=f"{key}:time",
                    help="Sets " + ", ".join(plan.time_features),
                )
        # Categorical inputs first: they describe the flight; numbers (weather) follow.
        ordered = sorted(plan.fields, key=lambda f: not isinstance(f, CategoricalFeature))
        columns = st.columns(3)
        values = {
            feature.name: draw_input(columns[i % 3], feature, f"{key}:{feature.name}")
            for i, feature in enumerate(ordered)
        }
        if not st.form_submit_button("Predict", type="primary"):
            return None
    record = form.build_record(spec, plan, date, time, values)
    unusual = form.outside_training_range(spec, record)
    if unusual:
        st.info("Outside what the model saw in training: " + "; ".join(unusual))
    return record


def draw_input(column, feature: NumericFeature | CategoricalFeature, key: str):
    kind = form.widget_kind(feature)
    label = form.title(feature)
    help_text = f"Feature `{feature.name}`"
    default = form.typical_value(feature)
    if kind == "select":
        return column.selectbox(
            label,
            feature.categories,
            index=feature.categories.index(default),
            format_func=lambda c, f=feature: form.label(f, c),
            key=key,
            help=help_text,
        )
    if kind == "slider":
        return column.slider(
            label, int(feature.min), int(feature.max), int(default), key=key, help=help_text
        )
    if feature.kind == "integer":
        return column.number_input(
            label, int(feature.min), int(feature.max), int(default), step=1, key=key, help=help_text
        )
    return column.number_input(
        label, float(feature.min), float(feature.max), float(default), key=key, help=help_text
    )


def show_result(spec: FeatureSpec, record: dict, result: Prediction) -> None:
    st.divider()
    verdict = st.error if result.prediction == 1 else st.success
    verdict(f"### Prediction: {result.category}")
    cells = st.columns(3)
    cells[0].metric("Category", result.category)
    cells[1].metric("Probability of a delay", f"{result.probability:.1%}")
    cells[2].metric("Model version", f"{result.model_name} v{result.model_version}")
    st.altair_chart(charts.probability(result.probability), width="stretch")
    top = top_contributions(spec, record, result.contributions)
    if top:
        st.subheader("What drove this prediction")
        st.caption(
            "SHAP contributions of each input (LightGBM): positive values push towards a "
            "delay, negative ones towards on time."
        )
        st.altair_chart(charts.contributions(top), width="stretch")


def top_contributions(
    spec: FeatureSpec, record: dict, contributions: dict[str, float]
) -> list[tuple[str, float]]:
    """The largest contributions, labelled 'feature = value' in readable words."""
    ranked = sorted(
        ((name, value) for name, value in contributions.items() if name != "bias"),
        key=lambda item: abs(item[1]),
        reverse=True,
    )[:TOP_CONTRIBUTIONS]
    return [(f"{name} = {shown_value(spec, name, record.get(name))}", v) for name, v in ranked]


def shown_value(spec: FeatureSpec, name: str, value) -> str:
    try:
        feature = spec.feature(name)
    except KeyError:
        return str(value)
    if value is None:
        return "unknown"
    if isinstance(feature, CategoricalFeature):
        return feature.labels.get(value, value)
    return f"{round(value, 2):g}" if isinstance(value, float) else str(value)


main()
