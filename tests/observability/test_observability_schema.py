"""values.schema.json refuses bad monitoring values, naming the bad value's path."""

from __future__ import annotations

import pytest
from chart.chart_render import RenderError

# monitoring values -> path of the value helm must name
BAD_VALUES = [
    ({"serviceMonitor": {"interval": "5 seconds"}}, ("serviceMonitor", "interval")),
    ({"serviceMonitor": {"path": "metrics"}}, ("serviceMonitor", "path")),
    ({"rules": {"alerts": {"errorRatio": {"threshold": 2}}}}, ("errorRatio", "threshold")),
    ({"rules": {"alerts": {"featureDrift": {"threshold": -0.1}}}}, ("featureDrift", "threshold")),
    ({"rules": {"alerts": {"apiDown": {"for": "soon"}}}}, ("apiDown", "for")),
    ({"rules": {"alerts": {"latencyP95": {"threshold": 1}}}}, ("alerts", "latencyP95")),
    ({"dashboards": {"labelValue": 1}}, ("dashboards", "labelValue")),
]


@pytest.mark.parametrize("values, path", BAD_VALUES)
def test_bad_monitoring_values_fail_the_render(chart, values, path):
    with pytest.raises(RenderError) as error:
        chart.documents({"monitoring": values})
    message = str(error.value)
    assert "values don't meet the specifications of the schema" in message
    # Helm 4 names it /a/b, Helm 3 a.b
    assert "/".join(path) in message or ".".join(path) in message, message
