"""Attention pooling, one module per idea; this module gathers their public names.

- `nwcore.masking`: valid lengths to masks, the masked softmax, the empty-row policy.
- `nwcore.scoring`: score functions (dot, scaled dot, additive, bilinear) and the scorer
  modules that pool with them.
- `nwcore.hard`: soft vs hard attention (`attend`).
- `nwcore.multihead`: multi-head attention and self-attention.

Inputs are checked one way throughout (`nwcore._tensor_checks`). Shape vocabulary: B batch,
Q queries, K keys, D features, H heads. A query that may attend to no key gets all-zero
weights, never NaN, in the forward and the backward pass.
"""

from nwcore.hard import ATTEND_MODES, attend
from nwcore.masking import masked_softmax, valid_lens_to_mask
from nwcore.multihead import MultiHeadAttention, self_attention
from nwcore.scoring import (
    AdditiveAttention,
    BilinearAttention,
    DotProductAttention,
    additive_scores,
    bilinear_scores,
    dot_scores,
    scaled_dot_scores,
)

__all__ = [
    "ATTEND_MODES",
    "AdditiveAttention",
    "BilinearAttention",
    "DotProductAttention",
    "MultiHeadAttention",
    "additive_scores",
    "attend",
    "bilinear_scores",
    "dot_scores",
    "masked_softmax",
    "scaled_dot_scores",
    "self_attention",
    "valid_lens_to_mask",
]
