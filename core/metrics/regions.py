"""MediaPipe face-mesh index sets used by the metrics (checked against MediaPipe in the tests)."""

from __future__ import annotations

LIPS_OUTER = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 185, 40, 39, 37, 0, 267, 269, 270, 409)
LIPS_INNER = (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308, 191, 80, 81, 82, 13, 312, 311, 310, 415)
LIPS = LIPS_OUTER + LIPS_INNER
#: Lower half of MediaPipe's face oval, from one jaw corner round the chin to the other.
JAW = (58, 172, 136, 150, 149, 176, 148, 152, 377, 400, 378, 379, 365, 397, 288)
MOUTH_CORNERS = (61, 291)
RIGHT_EYE_LIDS = (159, 145)  # upper, lower
LEFT_EYE_LIDS = (386, 374)
RIGHT_EYE_CORNERS = (33, 133)
LEFT_EYE_CORNERS = (263, 362)
