"""The registered model as MLflow serves it: raw records in, probabilities out.

`models:/flight-delay/<n>` is an MLflow pyfunc whose artifacts are the LightGBM booster and
its feature spec. Its predict validates and encodes records with the spec's RecordEncoder,
the same code the inference API runs, so `mlflow.pyfunc.load_model(...).predict(df)`,
`mlflow models serve` and KServe's MLflow runtime answer exactly what `/predict/` answers,
and nobody needs to know the category codes.

The pipeline logs it the MLflow way, as models-from-code: MLflow runs `pyfunc_entry.py`
(no pickle) and finds this package in the model's own `code/` folder (`code_paths`), so
plain MLflow loads the model in a fresh environment with only the model's pip requirements.
proyecto4_common is on no package index, so it could not be a pip requirement instead.
"""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, Any

import mlflow.pyfunc
import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.models import Model, ModelSignature
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE
from mlflow.types.schema import ColSpec, Schema

from proyecto4_common.feature_spec import CategoricalFeature, FeatureSpec, RecordError
from proyecto4_common.names import DECISION_THRESHOLD

if TYPE_CHECKING:
    import lightgbm

# Keys of the pyfunc's artifacts (its MLmodel maps them to files in the model folder).
BOOSTER_ARTIFACT = "booster"
SPEC_ARTIFACT = "feature_spec"
BOOSTER_FILE = "booster.txt"
# The file MLflow runs to build the model (models-from-code), in this package.
ENTRY_FILE = "pyfunc_entry.py"
# What the pyfunc answers per record, as /predict/ does.
OUTPUT_COLUMNS = ("probability", "prediction", "category")
# What this package imports when MLflow loads the model, besides MLflow (which MLflow pins).
REQUIREMENTS = ("lightgbm", "pandas", "numpy", "pydantic")


def signature(spec: FeatureSpec) -> ModelSignature:
    """Raw features in (categories as strings, numbers as numbers; a nullable integer is a
    double, since only floats hold NaN), one answer per record out."""
    inputs = []
    for f in spec.features:
        if isinstance(f, CategoricalFeature):
            kind = "string"
        else:
            kind = "long" if f.kind == "integer" and not f.nullable else "double"
        inputs.append(ColSpec(kind, f.name))
    outputs = [
        ColSpec(kind, name)
        for kind, name in zip(("double", "long", "string"), OUTPUT_COLUMNS, strict=False)
    ]
    return ModelSignature(inputs=Schema(inputs), outputs=Schema(outputs))


def pip_requirements() -> list[str]:
    """The model's environment: only what loading and predicting need, pinned to the
    versions it was trained with."""
    return [
        *mlflow.pyfunc.get_default_pip_requirements(),
        *(f"{p}=={version(p)}" for p in REQUIREMENTS),
    ]


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as the JSON records /predict/ receives: Python numbers and strings, None for a
    missing value (pandas writes NaN, NA or None)."""
    plain = frame.astype(object)
    return plain.where(plain.notna(), None).to_dict("records")


def input_example(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows as the model's stored input example: missing values as None, so that its JSON
    holds null, which /predict/ takes, rather than NaN, which JSON does not allow."""
    out = frame.copy()
    for name in out.columns[out.isna().any()]:
        out[name] = out[name].astype(object).where(out[name].notna(), None)
    return out


def model_artifacts(model_dir: str | Path) -> dict[str, Path]:
    """Artifact key -> file of a downloaded pyfunc model, as its MLmodel names them; empty
    for a model logged another way."""
    config = Model.load(str(model_dir)).flavors.get("python_function", {})
    return {
        key: Path(model_dir) / entry["path"] for key, entry in config.get("artifacts", {}).items()
    }


def load_parts(
    booster_path: str | Path, spec_path: str | Path
) -> tuple[lightgbm.Booster, FeatureSpec]:
    import lightgbm

    return lightgbm.Booster(model_file=str(booster_path)), FeatureSpec.load(spec_path)


class FlightDelayModel(mlflow.pyfunc.PythonModel):
    """The booster behind the feature spec: records that /predict/ refuses, this refuses
    with the same message (as INVALID_PARAMETER_VALUE: 400 from `mlflow models serve`)."""

    def load_context(self, context) -> None:
        self.booster, self.spec = load_parts(
            context.artifacts[BOOSTER_ARTIFACT], context.artifacts[SPEC_ARTIFACT]
        )
        self.encoder = self.spec.encoder()

    def predict(
        self, context, model_input: pd.DataFrame, params: dict | None = None
    ) -> pd.DataFrame:
        try:
            matrix = self.encoder.encode_many(records(pd.DataFrame(model_input)))
        except RecordError as exc:
            raise MlflowException(str(exc), error_code=INVALID_PARAMETER_VALUE) from None
        probability = self.booster.predict(matrix, num_threads=1)
        prediction = (probability >= DECISION_THRESHOLD).astype("int64")
        return pd.DataFrame(
            {
                "probability": probability,
                "prediction": prediction,
                # object, not pandas 3's `str` dtype, which the V2 protocol's codecs (MLServer,
                # so KServe's MLflow runtime) cannot encode.
                "category": pd.Series([self.spec.category(c) for c in prediction], dtype=object),
            },
            columns=list(OUTPUT_COLUMNS),
        )
