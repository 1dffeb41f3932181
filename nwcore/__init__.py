"""nwcore: attention pooling, from Nadaraya-Watson kernel regression to multi-head attention.

>>> import nwcore
>>> d = nwcore.make_dataset("classic")
>>> fit = nwcore.nadaraya_watson(d.x_test, d.x_train, d.y_train, kernel="gaussian", w=1.0)
>>> fit.weights.shape  # (queries, keys); each row sums to 1
torch.Size([50, 50])
"""

from nwcore.attention import (
    AdditiveAttention,
    BilinearAttention,
    DotProductAttention,
    MultiHeadAttention,
    additive_scores,
    attend,
    bilinear_scores,
    dot_scores,
    masked_softmax,
    scaled_dot_scores,
    self_attention,
    valid_lens_to_mask,
)
from nwcore.bandwidth import (
    BandwidthSearch,
    loo_bandwidth,
    loo_bandwidth_binned,
    loo_mse,
    scott,
    silverman,
)
from nwcore.binned import BinnedResult, linear_binning, nw_binned
from nwcore.data import (
    DATASETS,
    DEFAULT_SEED,
    MAX_CSV_BYTES,
    MAX_POINTS,
    MIN_POINTS,
    Dataset,
    csv_columns,
    load_csv,
    make_dataset,
    truth,
)
from nwcore.encoding import PositionalEncoding, sinusoidal_encoding
from nwcore.errors import NWError
from nwcore.fast import FAST_METHODS, nadaraya_watson_fast
from nwcore.kernels import COMPACT_KERNELS, KERNELS, kernel_score, kernel_value
from nwcore.limits import DENSE_BYTES_LIMIT, check_dense, max_train_points
from nwcore.parametric import MAX_HEADS, ParametricNW
from nwcore.pooling import (
    PoolingResult,
    average_pooling,
    gaussian_dot_product_features,
    gaussian_nw_dot_product,
    kernel_attention,
    leave_one_out,
    nadaraya_watson,
    pairwise_distance,
)
from nwcore.train import MODES, TrainConfig, TrainResult, train_parametric

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "NWError",
    # kernels and pooling
    "KERNELS",
    "COMPACT_KERNELS",
    "kernel_score",
    "kernel_value",
    "PoolingResult",
    "average_pooling",
    "nadaraya_watson",
    "leave_one_out",
    "pairwise_distance",
    "kernel_attention",
    "gaussian_dot_product_features",
    "gaussian_nw_dot_product",
    # fast paths: exact at scale, and binned (approximate, says so)
    "FAST_METHODS",
    "nadaraya_watson_fast",
    "BinnedResult",
    "nw_binned",
    "linear_binning",
    # parametric model and training
    "MAX_HEADS",
    "ParametricNW",
    "MODES",
    "TrainConfig",
    "TrainResult",
    "train_parametric",
    # bandwidths
    "silverman",
    "scott",
    "loo_mse",
    "loo_bandwidth",
    "loo_bandwidth_binned",
    "BandwidthSearch",
    # memory limit of the dense paths (one limit for the library, export and dashboard)
    "DENSE_BYTES_LIMIT",
    "check_dense",
    "max_train_points",
    # data
    "DATASETS",
    "DEFAULT_SEED",
    "MIN_POINTS",
    "MAX_POINTS",
    "MAX_CSV_BYTES",
    "Dataset",
    "make_dataset",
    "truth",
    "load_csv",
    "csv_columns",
    # attention
    "masked_softmax",
    "valid_lens_to_mask",
    "dot_scores",
    "scaled_dot_scores",
    "additive_scores",
    "bilinear_scores",
    "AdditiveAttention",
    "DotProductAttention",
    "BilinearAttention",
    "attend",
    "MultiHeadAttention",
    "self_attention",
    "sinusoidal_encoding",
    "PositionalEncoding",
]
