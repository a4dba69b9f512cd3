"""GET /data with bad parameters: 4xx with one clear sentence in `detail`."""

from __future__ import annotations

import pytest

CASES = [
    # (query, status, detail)
    ({}, 422, "query parameter 'group' is required: an integer from 1 to 3"),
    ({"date": "2013-01-01"}, 422, "query parameter 'group' is required: an integer from 1 to 3"),
    ({"group": "1"}, 422, "query parameter 'date' is required: a calendar date as YYYY-MM-DD"),
    ({"group": "", "date": "2013-01-01"}, 422, "query parameter 'group' is required: an integer from 1 to 3"),
    ({"group": "one", "date": "2013-01-01"}, 422, "group must be an integer from 1 to 3, got 'one'"),
    ({"group": "1.5", "date": "2013-01-01"}, 422, "group must be an integer from 1 to 3, got '1.5'"),
    ({"group": "0", "date": "2013-01-01"}, 422, "group 0 is out of range: this source has 3 group(s), 1 to 3"),
    ({"group": "4", "date": "2013-01-01"}, 422, "group 4 is out of range: this source has 3 group(s), 1 to 3"),
    ({"group": "-1", "date": "2013-01-01"}, 422, "group -1 is out of range: this source has 3 group(s), 1 to 3"),
    ({"group": "1", "date": "01/02/2013"}, 422, "date must be a calendar date as YYYY-MM-DD, got '01/02/2013'"),
    ({"group": "1", "date": "20130102"}, 422, "date must be a calendar date as YYYY-MM-DD, got '20130102'"),
    ({"group": "1", "date": "2013-1-2"}, 422, "date must be a calendar date as YYYY-MM-DD, got '2013-1-2'"),
    ({"group": "1", "date": "2013-02-30"}, 422, "date must be a calendar date as YYYY-MM-DD, got '2013-02-30'"),
    ({"group": "1", "date": "2012-12-31"}, 404, "no data for 2012-12-31: the data set covers 2013-01-01 to 2013-12-31"),
    ({"group": "1", "date": "2014-01-01"}, 404, "no data for 2014-01-01: the data set covers 2013-01-01 to 2013-12-31"),
]  # fmt: skip


@pytest.mark.parametrize(("query", "status", "detail"), CASES)
def test_bad_parameters_get_a_clear_message(three_groups, query, status, detail):
    response = three_groups.get("/data", params=query)
    assert response.status_code == status
    assert response.json() == {"detail": detail}


def test_the_range_follows_the_number_of_groups(one_group):
    response = one_group.get("/data", params={"group": "2", "date": "2013-01-01"})
    assert response.status_code == 422
    assert response.json() == {
        "detail": "group 2 is out of range: this source has 1 group(s), 1 to 1"
    }
