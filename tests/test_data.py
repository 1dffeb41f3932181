"""Datasets against the book's generation recipe; the CSV loader against bad files."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import nwcore
from nwcore import NWError


@pytest.mark.parametrize("seed", [0, 42])
def test_classic_dataset_is_the_books_recipe(seed):
    torch.manual_seed(seed)  # the book draws from the global generator
    x, _ = torch.sort(torch.rand(50) * 5)
    y = 2 * torch.sin(x) + x**0.8 + torch.normal(0.0, 0.5, (50,))
    d = nwcore.make_dataset("classic", seed=seed)
    torch.testing.assert_close(d.x_train, x.double())
    torch.testing.assert_close(d.y_train, y.double(), atol=1e-5, rtol=0)
    assert d.x_test.tolist() == pytest.approx([i / 10 for i in range(50)])
    assert d.y_truth.tolist() == pytest.approx(
        [2 * math.sin(i / 10) + (i / 10) ** 0.8 for i in range(50)]
    )


def test_newer_d2l_dataset_is_its_recipe():
    d = nwcore.make_dataset("d2l_new", seed=3)
    torch.manual_seed(3)
    x, _ = torch.sort(torch.rand(40) * 5)
    y = 2 * torch.sin(x) + x + torch.randn(40)
    torch.testing.assert_close(d.x_train, x.double())
    torch.testing.assert_close(d.y_train, y.double(), atol=1e-5, rtol=0)


def test_every_dataset_is_seeded_and_sized():
    for name in nwcore.DATASETS:
        a = nwcore.make_dataset(name, n_train=33, noise=0.2, seed=5)
        b = nwcore.make_dataset(name, n_train=33, noise=0.2, seed=5)
        c = nwcore.make_dataset(name, n_train=33, noise=0.2, seed=6)
        assert a.n_train == 33 and torch.equal(a.y_train, b.y_train)
        assert not torch.equal(a.y_train, c.y_train)
        assert bool((a.x_train[1:] >= a.x_train[:-1]).all())
        torch.testing.assert_close(a.y_truth, nwcore.truth(name, a.x_test))


def test_noise_zero_gives_the_truth():
    d = nwcore.make_dataset("sinc", noise=0.0)
    torch.testing.assert_close(d.y_train, nwcore.truth("sinc", d.x_train))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "mnist"}, "choose one of"),
        ({"n_train": 0}, "from 3 to"),
        ({"n_train": 1}, "from 3 to"),
        ({"n_train": 10**9}, "from 3 to"),
        ({"n_train": 2.5}, "whole number"),
        ({"noise": -1.0}, ">= 0"),
        ({"noise": float("nan")}, ">= 0"),
        ({"noise": "a"}, "noise must be a finite number >= 0, got 'a'"),
        ({"seed": "x"}, "seed must be a whole number"),
        ({"seed": 1.5}, "seed must be a whole number"),
        ({"name": ["classic"]}, "choose one of"),
    ],
)
def test_bad_dataset_options_raise_nwerror(kwargs, message):
    with pytest.raises(NWError, match=message):
        nwcore.make_dataset(**kwargs)


# --- CSV ----------------------------------------------------------------------------------


def test_csv_loads_picked_columns_sorted_by_x():
    d = nwcore.load_csv(b"id,t,v\n1,2.0,10\n2,0.5,30\n3,1.0,20\n", "t", "v")
    assert d.x_train.tolist() == [0.5, 1.0, 2.0]
    assert d.y_train.tolist() == [30.0, 20.0, 10.0]
    assert d.y_truth is None and d.x_test.shape == (200,)


def test_csv_defaults_to_first_two_numeric_columns_and_reads_semicolons():
    d = nwcore.load_csv(b"name;a;b\nu;1;5\nv;2;6\nw;3;7\n")
    assert d.x_label == "a" and d.y_label == "b"


def test_csv_several_x_columns_give_points_in_rd():
    d = nwcore.load_csv(b"a,b,y\n0,0,1\n1,0,2\n0,1,3\n1,1,4\n", ["a", "b"], "y")
    assert d.x_train.shape == (4, 2) and d.dim == 2 and d.x_test is None
    fit = nwcore.nadaraya_watson(d.x_train, d.x_train, d.y_train, "gaussian", 1.0)
    assert torch.isfinite(fit.y_hat).all()


def test_csv_from_a_path_and_a_file_object(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("x,y\n1,2\n2,3\n3,5\n")
    assert nwcore.load_csv(str(path)).n_train == 3
    with open(path, "rb") as fh:
        assert nwcore.load_csv(fh).n_train == 3
    assert nwcore.csv_columns(str(path)) == ["x", "y"]


@pytest.mark.parametrize(
    ("content", "cols", "message"),
    [
        (b"", (None, None), "empty"),
        (b"   \n\n", (None, None), "empty"),
        (b"x,y\n", (None, None), "need two numeric columns"),
        (b"x\n1\n2\n3\n", (None, None), "need two numeric columns"),
        (b"x,y\n1,a\n2,b\n3,c\n", ("x", "y"), "non-numeric entries"),
        (b"x,y\n1,2\n2,oops\n3,4\n", ("x", "y"), r"lines \[3\]"),
        (b"x,y\n1,2\n2,\n3,4\n", ("x", "y"), "empty, NaN or infinite"),
        (b"x,y\n1,2\n2,nan\n3,4\n", ("x", "y"), "empty, NaN or infinite"),
        (b"x,y\n1,2\ninf,3\n3,4\n", ("x", "y"), "empty, NaN or infinite"),
        (b"x,y\n1,2\n", ("x", "y"), "at least 3"),
        (b"x,y\n1,2\n1,3\n1,4\n", ("x", "y"), "same in every row"),
        (b"x,y\n1,2\n2,3\n3,4\n", ("x", "z"), "no column named 'z'"),
        (b"x,y\n1,2\n2,3\n3,4\n", ("x", "x"), "both 'x'"),
        (b"x,y\n1,2\n\xff\xfe,3\n", ("x", "y"), "not UTF-8"),
    ],
)
def test_bad_csv_raises_nwerror_saying_what_to_do(content, cols, message):
    with pytest.raises(NWError, match=message):
        nwcore.load_csv(content, *cols)


@pytest.mark.parametrize(
    "raw",
    [
        b"x;y\n1,5;2,5\n2,5;3,1\n3,5;4,0\n",  # semicolon columns, comma decimals
        b'x,y\n"1,5","2,5"\n"2,5","3,1"\n"3,5","4,0"\n',  # quoted comma decimals
        b"x;y\n1;2,5\n2;3,1\n3;4,0\n",  # only y has comma decimals
    ],
)
def test_csv_with_decimal_commas_gets_a_decimal_hint(raw):
    with pytest.raises(NWError, match=r"decimal comma: save the file with a point"):
        nwcore.load_csv(raw)


def test_csv_over_the_size_limit_is_refused_before_parsing():
    big = b"x,y\n" + b"1.0,2.0\n" * 2000
    with pytest.raises(NWError, match="larger than"):
        nwcore.load_csv(big, max_bytes=1024 * 1024 // 100)


def test_csv_with_html_column_names_loads_them_as_plain_text():
    d = nwcore.load_csv(b"<script>alert(1)</script>,<b>y</b>\n1,2\n2,3\n3,5\n")
    assert d.x_label == "<script>alert(1)</script>" and d.y_label == "<b>y</b>"


def test_csv_duplicated_x_is_accepted():
    d = nwcore.load_csv(b"x,y\n1,2\n1,4\n2,3\n3,3\n")
    assert d.n_train == 4


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=300))
def test_csv_loader_never_fails_with_anything_but_nwerror(raw):
    try:
        d = nwcore.load_csv(raw)
    except NWError as exc:
        assert str(exc)
    else:
        assert d.n_train >= nwcore.MIN_POINTS
        assert torch.isfinite(d.x_train).all() and torch.isfinite(d.y_train).all()


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(-1e6, 1e6, allow_nan=False),
            st.one_of(st.floats(-1e6, 1e6, allow_nan=False), st.just(float("nan"))),
        ),
        max_size=12,
    )
)
def test_csv_text_rows_load_or_are_refused(rows):
    text = "x,y\n" + "".join(f"{a!r},{b!r}\n" for a, b in rows)
    try:
        d = nwcore.load_csv(text.encode())
    except NWError:
        return
    assert d.n_train == len(rows) and torch.isfinite(d.y_train).all()


@settings(max_examples=150, deadline=None)
@given(
    xs=st.lists(st.floats(-100, 100, allow_nan=False), min_size=1, max_size=20),
    q=st.floats(-200, 200, allow_nan=False),
    w=st.one_of(st.floats(-1e9, 1e9, allow_nan=False), st.sampled_from([0.0, 1e-9, 1e300])),
    kernel=st.sampled_from(list(nwcore.KERNELS)),
)
def test_pooling_is_always_a_convex_combination(xs, q, w, kernel):
    ys = [((i * 7919) % 13) - 6.0 for i in range(len(xs))]
    res = nwcore.nadaraya_watson([q], xs, ys, kernel, w)
    assert torch.isfinite(res.weights).all() and (res.weights >= 0).all()
    assert float(res.weights.sum()) == pytest.approx(1.0)
    assert min(ys) - 1e-9 <= float(res.y_hat[0]) <= max(ys) + 1e-9
