"""Loss-weight ramps."""
import math


def sigmoid_rampup(step: int, length: int) -> float:
    """``exp(−5 (1 − t/T)²)`` for ``t < T``, then 1 (Laine & Aila, 2017; the
    mean-teacher and RAIL code bases). ``length <= 0`` means no ramp."""
    if length <= 0 or step >= length:
        return 1.0
    phase = 1.0 - max(step, 0) / length
    return math.exp(-5.0 * phase * phase)
