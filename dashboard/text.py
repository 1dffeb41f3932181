"""Every user-visible string of the dashboard, keyed by a stable id.

One place for the words, so a later translation (workshop mode) swaps this table and
nothing else. Widget labels marked "contract" are relied on by users and tests
(SPEC section 4): keep them as they are in every language.

>>> t("w_caption", w="2", h="0.5")
'w = 2, bandwidth h = 1/w = 0.5'
"""

from __future__ import annotations

TEXT: dict[str, str] = {
    # --- app shell --------------------------------------------------------------------------
    "app_title": "Attention pooling lab",
    "app_about": (
        "Nadaraya-Watson kernel regression seen as attention: a query looks at keys "
        "(training x), turns distances into weights that sum to 1, and pools the values "
        "(training y)."
    ),
    "page_pooling": "Attention pooling",
    "page_scoring": "Scoring functions",
    "page_mha": "Multi-head self-attention",
    "unexpected_error": (
        "Something went wrong on this page. Change a setting or reload the page; "
        "if it happens again, tell the facilitator (the details are in the server log)."
    ),
    # --- page 1: controls -------------------------------------------------------------------
    "sidebar_data": "Data",
    "sidebar_model": "Pooling",
    "dataset": "Dataset",  # contract
    "dataset_csv": "your CSV file (upload)",
    "dataset_help": "The classic d2l experiment is the default: everyone sees the same picture.",
    "csv_upload": "CSV file",
    "csv_upload_help": "A header row, then one row per point. Pick the x and y columns below.",
    "csv_x": "x column",
    "csv_y": "y column",
    "csv_waiting": "Upload a CSV file in the sidebar. Until then the page shows {previous}.",
    "csv_loaded": "Loaded {name}: {description}",
    "csv_refused": "This file was not used: {reason}",
    "csv_kept": "Still showing the previous data ({previous}).",
    "csv_sampled": (
        "The file has {n} rows; the page uses a fixed random sample of {m} so that it stays "
        "live (training and leave-one-out look at every pair of points)."
    ),
    "csv_no_columns": (
        "The file has {count} numeric column(s); it needs two (x and y). "
        "Add a numeric column or upload another file."
    ),
    "n_train": "n_train",
    "n_train_help": "How many training points (keys) to draw.",
    "noise": "noise",
    "noise_help": "Standard deviation of the Gaussian noise added to f(x).",
    "seed": "seed",
    "seed_help": "Same seed, same data: change it to draw another sample.",
    "kernel": "Kernel",  # contract
    "kernel_help": "How a distance u = |x - x_i| w becomes a weight K(u).",
    "w": "w",  # contract
    "w_help": (
        "The width parameter. Large w = narrow window (wiggly fit); small w = wide window "
        "(flat fit). The slider is logarithmic."
    ),
    "w_exact": "exact w (optional)",
    "w_exact_help": "Type any number, e.g. 0.37 or 1e-9; leave empty to use the slider.",
    "w_exact_placeholder": "e.g. 0.37",
    "w_caption": "w = {w}, bandwidth h = 1/w = {h}",
    "w_not_number": (
        "exact w: {value!r} is not a number. Type a number such as 2.5 or 1e-3, or clear the "
        "box to use the slider (now using w = {fallback})."
    ),
    "w_not_finite": (
        "exact w must be a finite number; {value!r} is not. Type a number such as 2.5, "
        "or clear the box (now using w = {fallback})."
    ),
    "w_zero": (
        "w = 0 gives every key the same weight, so nonparametric pooling equals average "
        "pooling (the bandwidth 1/w is infinite). Try w = 1."
    ),
    "w_constant": (
        "The constant kernel ignores w: every w gives average pooling, so the leave-one-out "
        "'optimum' and the learned w are arbitrary."
    ),
    "w_negative": "The kernels are symmetric: w = {w} acts exactly like w = {abs_w}.",
    "w_tiny": (
        "w = {w} is tiny: the window is far wider than the data, so the fit is almost flat "
        "(average pooling). Try w between 0.1 and 30."
    ),
    "w_huge": (
        "w = {w} is huge: the window is narrower than the gap between points, so each query "
        "copies its nearest training point. Try w between 0.1 and 30."
    ),
    "heads": "Heads",  # contract
    "heads_help": (
        "Heads of the parametric model: each learns its own w; a learned mixture combines them."
    ),
    "mode": "Training mode",
    "mode_help": (
        "d2l: the book's recipe (SGD, lr 0.5, 5 epochs); it can overshoot to a too-narrow "
        "kernel. converged: train to the leave-one-out optimum."
    ),
    "mode_d2l": "d2l (the book: 5 SGD epochs)",
    "mode_converged": "converged (leave-one-out optimum)",
    # --- page 1: body -----------------------------------------------------------------------
    "pooling_title": "Attention pooling: Nadaraya-Watson regression",
    "pooling_intro": (
        "Each query x (a point on the grid) attends to the training points: keys are their x, "
        "values their y. **average** gives every key weight 1/n; **nonparametric** weighs keys "
        "by the kernel K((x - x_i) w) with your w; **parametric** learns w from the data "
        "(press *Train*). Hover over the fit to see that query's row of attention weights."
    ),
    "how_to_read": "How to read this page",
    "how_to_read_body": (
        "1. Pick a **Dataset** and a **Kernel** in the sidebar, then move **w**.\n"
        "2. The top chart shows the training points, the truth (when it is known) and the "
        "three pooled curves. Click the names under *Curves* to hide or show them.\n"
        "3. The heatmaps below it show the attention weights: one row per query, one column "
        "per key, both sorted by x. A bright diagonal means each query looks at nearby keys; "
        "a flat colour means every key counts the same (average pooling).\n"
        "4. *Train* fits w for the parametric model (one per head) and compares it with "
        "Silverman's and Scott's rules and the leave-one-out optimum.\n"
        "5. The metrics table says which pooling is closest to the truth and which predicts "
        "left-out points best. *Export* packs the trained model as ONNX."
    ),
    "curves": "Curves",
    "series_truth": "truth",
    "series_points": "training points",
    "series_average": "average",  # contract
    "series_nonparametric": "nonparametric",  # contract
    "series_parametric": "parametric",  # contract
    "fit_title": "Fit: {description}",
    "fit_alt": ("Fit and attention heatmaps: {curves} pooling, kernel {kernel}, w = {w}."),
    "heat_title_np": "nonparametric ({kernel}, w = {w})",
    "heat_title_param": "parametric head {head} (w = {w})",
    "heat_axis_query": "query x (sorted)",
    "heat_axis_key": "key x_i (sorted)",
    "heat_downsampled": (
        "The heatmaps show {q} of {q_total} queries and {k} of {k_total} keys "
        "(neighbouring keys' weights are summed) so the browser stays fast; "
        "the curves and metrics use every point."
    ),
    "param_untrained": (
        "**parametric**: not trained yet for kernel {kernel}, {heads} head(s), mode {mode}. "
        "Press **Train** below to learn w and see its curve and heatmaps."
    ),
    "empty_np": (
        "The {kernel} kernel is zero outside |u| < 1, so with w = {w} (h = {h}), "
        "{count} of {total} queries have no training point inside their window. "
        "They copy the nearest training point's y (marked with a cross on the chart). "
        "Lower w to widen the window."
    ),
    "empty_underflow": (
        "With w = {w} the {kernel} weights underflow to zero for {count} of {total} queries "
        "(every key is too far away in units of h = {h}). They copy the nearest training "
        "point's y (marked with a cross on the chart). Lower w to widen the window."
    ),
    "empty_param": (
        "parametric head(s) {heads}: {count} of {total} queries have an empty window and copy "
        "the nearest training point's y."
    ),
    "section_train": "Train the parametric pooling",
    "train_button": "Train",
    "train_help": "Learn w (one per head) from the data with leave-one-out keys.",
    "train_running": "Training: step {step}, leave-one-out MSE {loss:.4g}",
    "train_done": "Trained in {steps} steps: leave-one-out MSE {loss:.4g}.",
    "train_stale": "The trained model shown is for the current settings.",
    "loss_title": "Leave-one-out MSE while training",
    "loss_step": "step",
    "loss_value": "leave-one-out MSE",
    "bandwidth_title": "Learned w next to the bandwidth rules",
    "bw_col_rule": "rule",
    "bw_col_w": "w",
    "bw_col_h": "h = 1/w",
    "bw_col_loo": "leave-one-out MSE",
    "bw_col_mix": "head weight",
    "bw_slider": "your w (sidebar)",
    "bw_silverman": "Silverman's rule",
    "bw_scott": "Scott's rule",
    "bw_loo": "leave-one-out optimum",
    "bw_head": "learned, head {head}",
    "bw_untrained": (
        "Train to see the learned w per head here, next to the leave-one-out optimum "
        "(the w that best predicts each training point from the others)."
    ),
    "bw_d2l_note": (
        "d2l mode stops after 5 SGD epochs; on the classic data it overshoots to a much "
        "larger w (a too-narrow window) than the leave-one-out optimum. Switch to "
        "*converged* and train again to compare."
    ),
    "section_metrics": "Metrics",
    "metrics_pooling": "pooling",
    "metrics_test": "test MSE vs truth",
    "metrics_loo": "leave-one-out MSE",
    "metrics_caption": (
        "Test MSE compares each curve with the noiseless truth on the query grid (only for "
        "synthetic data). Leave-one-out MSE predicts every training point from the others."
    ),
    "metrics_untrained": "train first",
    "metrics_no_truth": "no truth (CSV)",
    "section_export": "Export",
    "export_intro": (
        "Pack the trained parametric model as a self-contained ONNX file (the training keys "
        "and values are inside) with a model card, for use in other programs."
    ),
    "export_button": "Export ONNX",
    "export_untrained": "Train the parametric model first; then you can export it.",
    "export_unavailable": "Export is not available on this server: {reason}",
    "export_failed": "Export failed: {reason}",
    "export_done": "Exported: model.onnx is {size} bytes; ONNX matches torch to {parity:.2g}.",
    "download_onnx": "Download model.onnx",
    "download_card": "Download model_card.json",
    "large_data": (
        "{n} training points: the leave-one-out search, training and heatmaps use all "
        "N x N pairs, so this page works with at most {max} points."
    ),
    # --- page 2 -----------------------------------------------------------------------------
    "scoring_title": "Scoring functions",
    "scoring_intro": (
        "Attention turns a score for every (query, key) pair into weights with a softmax, "
        "then pools the values. Edit the queries, keys and values (one row per line, numbers "
        "separated by commas), pick a scoring function, and hide keys with a valid length."
    ),
    "queries": "Queries",
    "queries_help": "One query per line, e.g. `1, 0`.",
    "keys": "Keys",
    "keys_help": "One key per line; dot-product scores need as many numbers as a query.",
    "values": "Values",
    "values_help": "One value per key (same number of lines as Keys); several numbers allowed.",
    "scorer": "Scoring function",
    "scorer_additive": "additive: w_v^T tanh(W_q q + W_k k)",
    "scorer_dot": "dot product: q^T k",
    "scorer_scaled_dot": "scaled dot product: q^T k / sqrt(d)",
    "scorer_bilinear": "bilinear: q^T W k",
    "hidden": "Hidden size",
    "hidden_help": "Size of the tanh layer in additive attention.",
    "param_seed": "Seed for W",
    "param_seed_help": "W_q, W_k, w_v (additive) and W (bilinear) are random with this seed.",
    "mask_mode": "Masking",
    "mask_none": "none",
    "mask_shared": "one valid length for every query",
    "mask_per_query": "one valid length per query",
    "valid_len": "Valid length",
    "valid_len_help": "Keys at index >= valid length get weight 0 (padding).",
    "valid_lens": "Valid lengths per query",
    "valid_lens_help": "One whole number per query, separated by commas, e.g. `3, 1`.",
    "attention_mode": "Attention",
    "att_soft": "soft (weighted average)",
    "att_argmax": "hard (argmax)",
    "att_sample": "hard (sample a key)",
    "scores_title": "Scores (query x key)",
    "weights_title": "Attention weights (query x key)",
    "masked": "masked",
    "outputs_title": "Pooled outputs",
    "outputs_caption": (
        "soft: each output is the weighted average of the values. hard (argmax): the value of "
        "the key with the largest weight. hard (sample): the value of a key drawn with those "
        "weights. A query with valid length 0 attends to nothing and pools to zeros."
    ),
    "parse_empty": "{what} is empty: type at least one row of numbers, e.g. `1, 0`.",
    "parse_bad": (
        "{what}, line {line}: {value!r} is not a number. Use numbers separated by commas, "
        "e.g. `1, 0.5`."
    ),
    "parse_ragged": (
        "{what}: line {line} has {got} numbers but line 1 has {want}. Give every line the "
        "same number of entries."
    ),
    "parse_too_many": "{what}: at most {max} rows here; remove some lines.",
    "valid_lens_count": (
        "Valid lengths per query: give {want} whole numbers (one per query), got {got}."
    ),
    "valid_lens_range": (
        "Valid lengths per query: {value!r} is not a whole number from 0 to {max} "
        "(the number of keys)."
    ),
    "values_count": (
        "Values has {got} line(s) but Keys has {want}: give one line of values per key."
    ),
    "row_query": "query {i}",
    "row_key": "key {i}",
    "col_out": "output {j}",
    # --- page 3 -----------------------------------------------------------------------------
    "mha_title": "Multi-head self-attention",
    "mha_intro": (
        "In self-attention every token is a query, a key and a value at once. Each head "
        "projects the tokens, scores every pair with a scaled dot product and pools; the "
        "output projection W_o mixes the heads' results. The weights here are random "
        "(fixed by the seed): the point is how the pieces fit, not what they learned."
    ),
    "seq_kind": "Sequence",
    "seq_sentence": "a sentence",
    "seq_numbers": "numbers",
    "sentence": "Sentence",
    "sentence_help": "Words separated by spaces; each word is one token.",
    "numbers": "Numbers",
    "numbers_help": "Numbers separated by commas, e.g. `1, 2, 3, 2, 1`.",
    "embed_dim": "Embedding size",
    "embed_dim_help": "Features per token (E); each head gets E / Heads of them.",
    "pos_enc": "Positional encoding",
    "pos_enc_help": "Add sin/cos(pos / 10000^(2j/E)) so attention can tell positions apart.",
    "mha_seed": "Seed for the weights",
    "mha_seed_help": "Token embeddings and the projections are random with this seed.",
    "tokens_caption": "{count} tokens: {tokens}",
    "too_many_tokens": "Only the first {max} tokens are used ({count} given).",
    "no_tokens": "Type at least one token (a word or a number) to see attention.",
    "pe_title": "Positional encoding (position x feature)",
    "pe_off": (
        "Positional encoding is off: attention is blind to order, so repeated tokens get "
        "identical rows and shuffling the tokens only shuffles the output."
    ),
    "heads_title": "Attention weights per head (query token x key token)",
    "head_panel": "head {head}",
    "out_proj_title": "Output projection W_o (output x head feature)",
    "out_row": "out {i}",
    "out_proj_caption": (
        "Columns come in blocks of E / Heads, one block per head: W_o decides how much each "
        "head contributes to each output feature."
    ),
    "output_title": "Output of the layer (token x feature)",
    "number_bad": (
        "Numbers: {value!r} is not a number. Separate numbers with commas, e.g. `1, 2, 3`."
    ),
    # --- chart fields (tooltips, axes) ------------------------------------------------------
    "f_x": "x",
    "f_y": "y",
    "f_series": "curve",
    "f_query": "query",
    "f_key": "key",
    "f_weight": "weight",
    "f_score": "score",
    "f_panel": "panel",
    "f_position": "position",
    "f_feature": "feature",
    "f_out_feature": "output feature",
    "f_value": "value",
    "f_token": "token",
}


def t(key: str, **fmt: object) -> str:
    """The text for `key`, formatted with `fmt` (str.format)."""
    text = TEXT[key]
    return text.format(**fmt) if fmt else text


_MD_SPECIAL = set("\\`*_{}[]()#+-.!|<>~:$&\"'=")


def plain(user_text: object) -> str:
    """Escape text that came from a user (file names, column names, tokens) for markdown.

    >>> plain("<script>x</script> *bold*")
    '\\\\<script\\\\>x\\\\</script\\\\> \\\\*bold\\\\*'

    st.markdown/st.error/st.caption render markdown; a backslash before every ASCII
    punctuation character makes the text show literally (no links, images, HTML or
    Streamlit colour/icon directives).
    """
    return "".join("\\" + ch if ch in _MD_SPECIAL else ch for ch in str(user_text))
