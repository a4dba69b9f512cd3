"""The registered model on its own: what MLflow serves (pyfunc, `mlflow models serve`) answers
what /predict/ answers, and the registry's input example is a body /predict/ takes."""

from __future__ import annotations

import json
import subprocess
import sys

import httpx
import mlflow
import pandas as pd
import pytest
from api_helpers import api_env, running_api
from mlflow import MlflowClient
from mlflow.artifacts import download_artifacts
from proyecto4.processes import running
from proyecto4_common.feature_spec import CategoricalFeature
from proyecto4_common.names import MODEL_NAME
from servers import BIN, REPO, free_port
from sqlalchemy import create_engine, text

TOLERANCE = 1e-9


@pytest.fixture(scope="module")
def model_uri(trained_model) -> str:
    mlflow.set_tracking_uri(trained_model.tracking_uri)
    return f"models:/{MODEL_NAME}/{trained_model.version}"


@pytest.fixture(scope="module")
def model_dir(model_uri, tmp_path_factory) -> str:
    return download_artifacts(model_uri, dst_path=str(tmp_path_factory.mktemp("model")))


@pytest.fixture(scope="module")
def records(trained_model) -> list[dict]:
    """Served-like records: test rows as they are (nulls where the data has them), every
    nullable feature null at once, and each category of each categorical feature."""
    engine = create_engine(trained_model.data_db_url)
    names = trained_model.spec.names
    columns = ", ".join(names)
    clean = pd.read_sql(
        text(f"SELECT {columns} FROM clean_data WHERE dataset = 'test' LIMIT 200"), engine
    )
    engine.dispose()
    rows = json.loads(clean.to_json(orient="records"))
    spec = trained_model.spec
    base = spec.example_record()
    rows.append({**base, **{f.name: None for f in spec.features if f.nullable}})
    for feature in spec.features:
        if isinstance(feature, CategoricalFeature):
            rows += [{**base, feature.name: category} for category in feature.categories]
    assert any(value is None for row in rows for value in row.values())
    return rows


def unknown_category(trained_model, record: dict) -> tuple[dict, str]:
    name = next(f.name for f in trained_model.spec.features if isinstance(f, CategoricalFeature))
    return {**record, name: "ZZZ"}, f"{name}: unknown category 'ZZZ'"


def api_probabilities(api: str, records: list[dict]) -> list[float]:
    answers = []
    for start in range(0, len(records), 20):  # the test API's list limit
        response = httpx.post(f"{api}/predict/", json=records[start : start + 20])
        assert response.status_code == 200, response.text
        answers += [p["probability"] for p in response.json()["predictions"]]
    return answers


def test_the_signature_is_the_raw_feature_schema(model_uri, trained_model):
    inputs = mlflow.models.get_model_info(model_uri).signature.inputs.to_dict()
    types = {column["name"]: column["type"] for column in inputs}

    assert list(types) == trained_model.spec.names
    for feature in trained_model.spec.features:
        if isinstance(feature, CategoricalFeature):
            assert types[feature.name] == "string", feature.name
        elif feature.nullable or feature.kind == "number":
            assert types[feature.name] == "double", feature.name
        else:
            assert types[feature.name] == "long", feature.name


def test_the_registry_input_example_is_accepted_by_the_api(api, model_dir, trained_model):
    with open(f"{model_dir}/input_example.json") as fh:
        stored = json.load(fh)
    examples = [dict(zip(stored["columns"], row, strict=False)) for row in stored["data"]]

    listed = httpx.post(f"{api}/predict/", json=examples)
    single = httpx.post(f"{api}/predict/", json=examples[0])

    assert listed.status_code == 200, listed.text
    assert single.status_code == 200, single.text
    assert len(listed.json()["predictions"]) == len(examples)
    assert set(examples[0]) == set(trained_model.spec.names)


def test_pyfunc_predict_equals_the_api(api, model_uri, records, trained_model):
    model = mlflow.pyfunc.load_model(model_uri)

    predicted = model.predict(pd.DataFrame(records))

    assert list(predicted.columns) == ["probability", "prediction", "category"]
    assert predicted["probability"].tolist() == pytest.approx(
        api_probabilities(api, records), abs=TOLERANCE
    )
    # One record at a time the API takes LightGBM's single-row path: the same answer.
    for record, expected in zip(records[:5], predicted.to_dict("records"), strict=False):
        served = httpx.post(f"{api}/predict/", json=record).json()
        assert served["probability"] == pytest.approx(expected["probability"], abs=TOLERANCE)
        assert (served["prediction"], served["category"]) == (
            expected["prediction"],
            expected["category"],
        )


def test_pyfunc_refuses_an_unknown_category_as_the_api_does(api, model_uri, records, trained_model):
    model = mlflow.pyfunc.load_model(model_uri)
    bad, message = unknown_category(trained_model, records[0])

    served = httpx.post(f"{api}/predict/", json=[records[1], bad])
    with pytest.raises(mlflow.exceptions.MlflowException) as refused:
        model.predict(pd.DataFrame([records[1], bad]))

    assert served.status_code == 422
    assert served.json()["detail"] == f"record 1: {message}"
    assert refused.value.message == f"record 1: {message}"
    assert refused.value.error_code == "INVALID_PARAMETER_VALUE"


def test_mlflow_models_serve_answers_what_the_api_answers(
    api, model_uri, model_dir, records, trained_model
):
    port = free_port()
    serve = [
        str(BIN / "mlflow"),
        "models",
        "serve",
        "-m",
        model_uri,
        "--env-manager",
        "local",
        "-h",
        "127.0.0.1",
        "-p",
        str(port),
        "-w",
        "1",
    ]
    url = f"http://127.0.0.1:{port}"
    bad, message = unknown_category(trained_model, records[0])
    with open(f"{model_dir}/serving_input_example.json", "rb") as fh:
        serving_example = fh.read()
    with running(
        serve, f"{url}/ping", {"MLFLOW_TRACKING_URI": trained_model.tracking_uri}, timeout=300
    ):
        answer = httpx.post(f"{url}/invocations", json={"dataframe_records": records}, timeout=60)
        refused = httpx.post(f"{url}/invocations", json={"dataframe_records": [bad]}, timeout=60)
        example = httpx.post(
            f"{url}/invocations",
            content=serving_example,
            headers={"content-type": "application/json"},
            timeout=60,
        )

    assert answer.status_code == 200, answer.text
    served = answer.json()["predictions"]
    assert [p["probability"] for p in served] == pytest.approx(
        api_probabilities(api, records), abs=TOLERANCE
    )
    assert {p["category"] for p in served} <= set(trained_model.spec.classes.values())
    assert refused.status_code == 400
    assert refused.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    # MLflow prefixes the model's message with the data it failed on.
    assert refused.json()["message"].endswith(f"Error: {message}")
    assert example.status_code == 200, example.text


def test_the_model_loads_with_its_own_code_only(model_dir, records):
    """Plain MLflow without this repository on the path: the model's code/ folder is enough."""
    script = f"""
import json, sys
sys.path = [p for p in sys.path if p != {str(REPO / "common")!r}]
import mlflow.pyfunc, pandas as pd
model = mlflow.pyfunc.load_model({model_dir!r})
import proyecto4_common
print(json.dumps({{"package": proyecto4_common.__file__,
                  "probability": model.predict(pd.DataFrame({records[:3]!r}))["probability"].tolist()}}))
"""
    ran = subprocess.run(
        [sys.executable, "-c", script],
        check=False,
        capture_output=True,
        text=True,
        cwd=model_dir,
        timeout=300,
    )

    assert ran.returncode == 0, ran.stderr[-3000:]
    loaded = json.loads(ran.stdout.strip().splitlines()[-1])
    assert loaded["package"].startswith(f"{model_dir}/code/")
    expected = mlflow.pyfunc.load_model(model_dir).predict(pd.DataFrame(records[:3]))["probability"]
    assert loaded["probability"] == pytest.approx(expected.tolist(), abs=TOLERANCE)


def test_the_api_still_serves_a_version_logged_as_a_bare_lightgbm_model(
    trained_model, model_dir, log_db, api, records, tmp_path
):
    """Versions registered before the model became a pyfunc can be in production when the
    API is upgraded: it loads them from the booster and the run's feature_spec.json."""
    from proyecto4_common.registered_model import BOOSTER_ARTIFACT, load_parts, model_artifacts

    legacy_name = f"{MODEL_NAME}-legacy"
    artifacts = model_artifacts(model_dir)
    booster, spec = load_parts(artifacts[BOOSTER_ARTIFACT], artifacts["feature_spec"])
    mlflow.set_tracking_uri(trained_model.tracking_uri)
    with mlflow.start_run():
        mlflow.log_text(spec.to_json(), "feature_spec.json")
        info = mlflow.lightgbm.log_model(booster, name="model", registered_model_name=legacy_name)
    MlflowClient(trained_model.tracking_uri).set_registered_model_alias(
        legacy_name, "production", str(info.registered_model_version)
    )
    env = api_env(trained_model, log_db, max_records=20, model_name=legacy_name)

    with running_api(env) as url:
        served = api_probabilities(url, records[:20])

    assert served == pytest.approx(api_probabilities(api, records[:20]), abs=TOLERANCE)


def test_mlserver_runtime_answers_what_the_api_answers(api, model_dir, records, tmp_path):
    """KServe's MLflow serving runtime is MLServer with mlserver-mlflow: started here offline
    from uv's tool cache (ci/install-mlserver.sh) with the model's own requirements.txt, it
    loads the registered model and answers a V2 request, typed from its metadata endpoint,
    with the probabilities /predict/ gives (pandas 3's `str` columns could not be encoded)."""
    port, grpc_port, metrics_port = free_port(), free_port(), free_port()
    (tmp_path / "settings.json").write_text(
        json.dumps(
            {
                "http_port": port,
                "grpc_port": grpc_port,
                "metrics_port": metrics_port,
                # In-process inference: MLServer 1.7.1's worker pool fails on uvloop 0.22.
                "parallel_workers": 0,
            }
        )
    )
    (tmp_path / "model-settings.json").write_text(
        json.dumps(
            {
                "name": MODEL_NAME,
                "implementation": "mlserver_mlflow.MLflowRuntime",
                "parameters": {"uri": model_dir},
            }
        )
    )
    serve = [
        "uvx",
        "--offline",
        "--with-requirements",
        str(REPO / "ci" / "mlserver-requirements.txt"),
        "--with-requirements",
        f"{model_dir}/requirements.txt",
        "--from",
        "mlserver",
        "mlserver",
        "start",
        str(tmp_path),
    ]
    url = f"http://127.0.0.1:{port}/v2/models/{MODEL_NAME}"
    with running(serve, f"{url}/ready", {}, timeout=300):
        metadata = httpx.get(url, timeout=30).json()
        types = {i["name"]: i["datatype"] for i in metadata["inputs"]}
        answer = httpx.post(
            f"{url}/infer",
            json={
                "parameters": {"content_type": "pd"},
                "inputs": [
                    {
                        "name": name,
                        "datatype": types[name],
                        "shape": [len(records)],
                        "data": [r[name] for r in records],
                    }
                    for name in types
                ],
            },
            timeout=60,
        )

    assert answer.status_code == 200, answer.text[-3000:]
    outputs = {o["name"]: o for o in answer.json()["outputs"]}
    assert outputs["category"]["datatype"] == "BYTES"
    assert outputs["probability"]["data"] == pytest.approx(
        api_probabilities(api, records), abs=TOLERANCE
    )
