"""attention.py is split by idea; every public name stays where callers import it from."""

import importlib

import pytest

import nwcore
import nwcore.attention

# module -> the public names it owns (the old attention.py's names, each in one place)
OWNERS = {
    "nwcore.masking": ["masked_softmax", "valid_lens_to_mask"],
    "nwcore.scoring": [
        "AdditiveAttention",
        "BilinearAttention",
        "DotProductAttention",
        "additive_scores",
        "bilinear_scores",
        "dot_scores",
        "scaled_dot_scores",
    ],
    "nwcore.hard": ["ATTEND_MODES", "attend"],
    "nwcore.multihead": ["MultiHeadAttention", "self_attention"],
}


@pytest.mark.parametrize("module", list(OWNERS))
def test_each_name_lives_in_one_module_and_is_reexported(module):
    mod = importlib.import_module(module)
    assert sorted(mod.__all__) == sorted(OWNERS[module])
    for name in OWNERS[module]:
        obj = getattr(mod, name)
        assert getattr(nwcore.attention, name) is obj
        if name != "ATTEND_MODES":
            assert getattr(nwcore, name) is obj
            assert obj.__module__ == module


def test_attention_reexports_exactly_the_split_names():
    owned = sorted(n for names in OWNERS.values() for n in names)
    assert sorted(nwcore.attention.__all__) == owned
    assert all(name in nwcore.__all__ for name in owned if name != "ATTEND_MODES")


def test_a_huge_embed_dim_that_heads_do_not_divide_is_refused_by_its_size() -> None:
    """Found by tests/test_api_properties.py: the divisibility message listed embed_dim's
    divisors by trying every number up to it, so 10**12 + 1 never returned. The size is
    checked first now (and the divisors come from pairs up to the square root)."""
    with pytest.raises(nwcore.NWError, match="memory"):
        nwcore.MultiHeadAttention(10**12 + 1, 2)
    with pytest.raises(nwcore.NWError, match=r"e\.g\. \[1, 2, 5, 10\]"):
        nwcore.MultiHeadAttention(10, 3)
