"""One-row prediction through LightGBM's single-row C entry point.

`Booster.predict` rebuilds a predictor and checks input types on every call, several
times the cost of walking the trees for one row. LightGBM's C API has a path made for
this case (LGBM_BoosterPredictForMatSingleRowFast): prepared once per model, then one
call per row. Lists and contributions keep using `Booster.predict`.

The per-row call keeps the GIL (the library loaded again as a `ctypes.PyDLL`): it lasts
microseconds, while giving the GIL up let the inference_log writer thread take it for up
to the interpreter's switch interval (5 ms) before the request could go on.
"""

from __future__ import annotations

import ctypes

import lightgbm
import numpy as np
from lightgbm.basic import _LIB, _safe_call

_PREDICT_NORMAL = 0  # C_API_PREDICT_NORMAL: probabilities for a binary objective
_DTYPE_FLOAT64 = 1  # C_API_DTYPE_FLOAT64
# The same loaded library (dlopen hands back the same handle), called without releasing the GIL.
_LIB_KEEPING_GIL = ctypes.PyDLL(_LIB._name)


class SingleRowPredictor:
    """Not thread-safe: the API calls it from its event loop only."""

    def __init__(self, booster: lightgbm.Booster):
        self._config = ctypes.c_void_p()
        _safe_call(
            _LIB.LGBM_BoosterPredictForMatSingleRowFastInit(
                booster._handle,
                ctypes.c_int(_PREDICT_NORMAL),
                ctypes.c_int(0),  # start iteration
                ctypes.c_int(booster.best_iteration),  # <= 0: every iteration
                ctypes.c_int(_DTYPE_FLOAT64),
                ctypes.c_int32(booster.num_feature()),
                ctypes.c_char_p(b"num_threads=1"),
                ctypes.byref(self._config),
            )
        )
        self._result = np.empty(1, dtype=np.float64)
        self._result_ptr = self._result.ctypes.data_as(ctypes.POINTER(ctypes.c_double))
        self._length = ctypes.c_int64()
        self._booster = booster  # the config points into it

    def __call__(self, row: np.ndarray) -> float:
        """Probability for one C-contiguous float64 row."""
        _safe_call(
            _LIB_KEEPING_GIL.LGBM_BoosterPredictForMatSingleRowFast(
                self._config,
                row.ctypes.data_as(ctypes.c_void_p),
                ctypes.byref(self._length),
                self._result_ptr,
            )
        )
        return float(self._result[0])

    def __del__(self) -> None:
        if self._config:
            _LIB.LGBM_FastConfigFree(self._config)
