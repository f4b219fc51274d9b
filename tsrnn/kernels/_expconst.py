"""The constants of the vectorizable exp (``_activations`` and ``_cellrows``).

One place for both: the scalar functions of :mod:`._activations` and the
vector code of :mod:`._cellrows` must round alike, bit for bit (but the float32
forward step of the LSTM scans, whose shorter exp is ``_cellrows.EXP32_SHORT``).
"""

from __future__ import annotations

import numpy as np

# float64: Cody-Waite reduction constants and the exponent range
_LOG2E = 1.4426950408889634
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_SHIFT = 6755399441055744.0  # 1.5 * 2**52: adding it rounds to an integer
_EXP_HI = 709.0
_EXP_LO = -708.0

# float32: the same in float32, so that nothing is promoted
_F = np.float32
_LOG2E_32 = _F(1.4426950408889634)
_LN2_HI_32 = _F(0.693359375)  # few mantissa bits: n * hi is exact
_LN2_LO_32 = _F(-2.12194440e-4)
_SHIFT_32 = _F(12582912.0)  # 1.5 * 2**23
_EXP_HI_32 = _F(88.0)
_EXP_LO_32 = _F(-87.0)
_C2, _C3, _C4, _C5, _C6, _C7 = (
    _F(0.5),
    _F(1.0 / 6.0),
    _F(1.0 / 24.0),
    _F(1.0 / 120.0),
    _F(1.0 / 720.0),
    _F(1.0 / 5040.0),
)
