"""What MLflow runs to load `flight-delay` (models-from-code): no pickle, only this package,
which travels with the model."""

from mlflow.models import set_model

from proyecto4_common.registered_model import FlightDelayModel

set_model(FlightDelayModel())
