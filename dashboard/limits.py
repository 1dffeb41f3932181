"""The numbers the dashboard's controls are built from: a leaf module (no imports).

nwcore's own values are copied here so that the table of controls (dashboard.params) can be
read without loading torch; tests/test_dashboard_helpers.py holds the copies equal to nwcore.
"""

from __future__ import annotations

# nwcore's (tests keep these equal to nwcore.DATASETS, KERNELS, MODES, MIN_POINTS, ...)
DATASETS = {  # name -> the experiment's own n_train and noise (the book's values)
    "classic": (50, 0.5),
    "d2l_new": (40, 1.0),
    "step": (50, 0.3),
    "sinc": (60, 0.3),
    "linear": (50, 0.5),
}
KERNELS = ("gaussian", "boxcar", "constant", "epanechnikov", "triangular")
MODES = ("d2l", "converged")
MIN_POINTS = 3
MAX_HEADS = 8
DEFAULT_SEED = 7
REFERENCE_W = 1.0  # the book's nonparametric width for its reference experiment (SPEC 3)

# 1-D data: pooling and leave-one-out use nwcore's windowed paths (O(N x window)) and the
# heatmaps are shown downsampled, so the page stays live up to this many points.
MAX_LIVE_POINTS = 5000
SEED_MAX = 2**31 - 1

# n_train in steps a person can hit exactly (1, 1.5, 2, 2.5, 3, 4, ... per decade), with
# every dataset's own n_train on it.
N_TRAIN_STEPS = (
    *range(MIN_POINTS, 10),
    *(m * 10**e for e in (1, 2, 3) for m in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 7, 8, 9)),
)
N_TRAIN_STEPS = tuple(int(n) for n in N_TRAIN_STEPS if n <= MAX_LIVE_POINTS)

# w on a log grid: 10 steps per decade; a page shows 5 decades around the data's scale.
W_STEPS_PER_DECADE = 10
W_DECADES_BELOW, W_DECADES_ABOVE = 2, 3  # around 1/spread: wide windows to narrow ones
W_STEP_RANGE = (-200, 200)  # the steps a link may name: w from 1e-20 to 1e20
W_TINY, W_HUGE = 1e-6, 1e6  # typed w outside these gets a warning (still used)
LOO_START_MAX = 100  # up to this many points the start w is the LOO optimum (<= 0.4 s)

# page 2 and 3
MAX_ROWS = 12  # typed matrices: small, so that every cell can be read
MAX_TOKENS = 16
SCORER_HIDDEN_MAX = 16
