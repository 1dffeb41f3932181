"""Every user-visible string of the dashboard, keyed by a stable id, in English and Chinese.

`TEXT` is the English table, `dashboard.text_zh.TEXT_ZH` the Simplified Chinese one, with
the same keys and the same {placeholders}. `t()` picks the table of the session's language
(the `lang` control, `?lang=zh` in the URL). Widget labels marked "contract" are relied on
by users and tests, which find controls by them: the same in every language.

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
    "w_exact_bad": (
        "exact w: {value!r} is not a finite number. Type a number such as 2.5 or 1e-3, or clear "
        "the box to use the slider."
    ),
    "w_start_book": "w starts at 1, the book's value for its experiment.",
    "w_start_loo": "w started at the leave-one-out optimum for these data.",
    "w_start_silverman": "w started at Silverman's rule for these data.",
    "w_use_silverman": "use Silverman",
    "w_use_loo": "use the leave-one-out optimum",
    "w_zero": (
        "w = 0 gives every key the same weight, so nonparametric pooling equals average "
        "pooling (the bandwidth 1/w is infinite). Try w = {w1}."
    ),
    "w_constant": (
        "The constant kernel ignores w: every w gives average pooling, so the leave-one-out "
        "'optimum' and the learned w are arbitrary."
    ),
    "w_negative": "The kernels are symmetric: w = {w} acts exactly like w = {abs_w}.",
    "w_tiny": (
        "w = {w} is tiny: the window is far wider than the data, so the fit is almost flat "
        "(average pooling). Try w between {lo} and {hi} for these data."
    ),
    "w_huge": (
        "w = {w} is huge: the window is narrower than the gap between points, so each query "
        "copies its nearest training point. Try w between {lo} and {hi} for these data."
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
    # the same text on every run (it is part of the chart's spec: a new one redraws the chart)
    "fit_alt_static": (
        "Fit chart: each pooling's curve over x with the training points, and below it the"
        " attention weights of every query (rows) on every key (columns)."
    ),
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
    "scorer_opt_additive": "additive",
    "scorer_opt_dot": "dot product",
    "scorer_opt_scaled_dot": "scaled dot product",
    "scorer_opt_bilinear": "bilinear",
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
    "weights_used_title": "Weights used by {mode}",
    "masked": "masked",
    "outputs_title": "Pooled outputs",
    "outputs_caption": (
        "soft: each output is the weighted average of the values. hard (argmax): the value of "
        "the key with the largest weight. hard (sample): the value of a key drawn with those "
        "weights. A query with valid length 0 attends to nothing and pools to zeros."
    ),
    "parse_empty": "{what} is empty: type at least one row of numbers, e.g. 1, 0.",
    "parse_bad": (
        "{what}, line {line}: {value!r} is not a number. Use numbers separated by commas, "
        "e.g. 1, 0.5."
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
    "fix_inputs": "Fix the box above (its message says how) to see the scores and weights.",
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
        "Numbers: {value!r} is not a number. Separate numbers with commas, e.g. 1, 2, 3."
    ),
    # --- chart fields (tooltips, axes) ------------------------------------------------------
    "f_x": "x",
    "f_y": "y",
    "f_series": "curve",
    "f_query": "query",
    "f_key": "key",
    "f_weight": "weight",
    "f_score": "score",
    "f_softmax": "softmax weight",
    "f_panel": "panel",
    "f_position": "position",
    "f_feature": "feature",
    "f_out_feature": "output feature",
    "f_value": "value",
    "f_token": "token",
    # --- workshop: language, links, URL notices ---------------------------------------------
    "page_exercises": "Exercises",
    "curves_help": "Show or hide each curve; the choice is part of the page's link.",
    "share_title": "Share this view",
    "share_caption_pooling": (
        "The link holds this page's controls (data, seed, kernel, w, ...), as the address bar "
        "does. An uploaded CSV file cannot travel in a link; with train=1 the link trains "
        "again when it opens (same data and seed, same result)."
    ),
    "share_caption_scoring": "The link holds this page's inputs and choices.",
    "share_caption_self-attention": "The link holds this page's sequence and settings.",
    "share_caption_exercises": (
        "The link opens this page in the same language and options; your answers stay here."
    ),
    "url_notice_title": (
        "Some values in this page's link were not used; the page shows the defaults instead:"
    ),
    "url_invalid_line": "{name} = {value}: {reason} Using {default}.",
    "url_unknown": "{name} is not a setting of this page; it was ignored.",
    "url_unknown_controls": (
        "{name}: no control is called {names}; those names were ignored. See WORKSHOP.md for "
        "the names."
    ),
    "url_reason_repeated": "give it once.",
    "url_reason_choice": "it must be one of {options}.",
    "url_reason_number": "it is not a number.",
    "url_reason_whole": "it must be a whole number.",
    "url_reason_range": "it must be between {lo} and {hi}.",
    "url_reason_flag": "it must be true or false.",
    "url_reason_w_grid": "it must be a value of the w slider, e.g. 0.1, 1, 3.16 or 10.",
    "url_default_w": "the data's starting w",
    "url_reason_csv": (
        "an uploaded CSV file cannot travel in a link; choose the dataset csv and upload the "
        "file again."
    ),
    "train_from_link": "This link asks for a trained model: training now (same data, same seed).",
    "train_too_large": (
        "Training ({mode}) with {heads} head(s) builds all N x N pairs with gradients at "
        "every step; with {n} points that is too heavy for a shared server. Lower n_train to "
        "{max} or less, or use converged mode with 1 head (fast at any n)."
    ),
    "train_link_csv": (
        "This link asks for a trained model, but uploaded data cannot be shared in a link: "
        "upload the file and press Train."
    ),
    # --- workshop: the exercises page ------------------------------------------------------
    "ex_title": "Exercises",
    "ex_intro": (
        "Eight exercises on attention pooling: the four from the book's section on "
        "Nadaraya-Watson kernel regression, then kernel choice, the Gaussian-NW = dot-product "
        "identity, soft versus hard attention and positional encoding. Each one: do the task "
        "in the app (the button opens the right page with the right settings in a new tab), "
        "type your answer, press *Check*. Hints and solutions are folded away below each one."
    ),
    "ex_heading": "Exercise {n}: {title}",
    "ex_open": "Open the page for this task",
    "ex_answer": "Your answer",
    "ex_check": "Check",
    "ex_right": "Yes: that holds. Read the solution to compare your reasoning.",
    "ex_not_yet": ("Not yet: that answer does not hold. Look at the page again, or open the hint."),
    "ex_empty": "Type a number first.",
    "ex_not_number": "{value!r} is not a number: type a number, e.g. 0.25 or 1e-3.",
    "ex_hint": "Hint",
    "ex_solution": "Solution",
    "ex_expected": "Reference answer: {expected}",
    "ex_more_data_title": "More training data",
    "ex_more_data_task": (
        "The book asks: *increase the number of training examples; can you learn "
        "nonparametric attention pooling better?* Open the page with n_train = 500 (kernel "
        "gaussian, w = 1, the default seed) and read the metrics table. Then set n_train back "
        "to 50 and compare."
    ),
    "ex_more_data_question": "Test MSE of **nonparametric** pooling at n_train = 500:",
    "ex_more_data_hint": (
        "The metrics table under the chart has a row *nonparametric* and a column "
        "*test MSE vs truth*."
    ),
    "ex_more_data_solution": (
        "At w = 1 the test MSE falls from {n50} (50 points) to {n500} (500 points). With more "
        "keys, each query finds more training points inside its window, so the noise averages "
        "out. But the window width is still fixed at h = 1/w = 1: the estimate stays biased "
        "where f bends, so more data helps most when w grows with n (a narrower window)."
    ),
    "ex_learned_w_title": "What does the learned w do?",
    "ex_learned_w_task": (
        "The book asks: *what is the value of the learned w in the parametric attention "
        "pooling experiment, and why does it make the weighted region sharper?* Open the page "
        "(it trains on load, mode d2l: the book's 5 SGD epochs) and read the table next to "
        "the bandwidth rules."
    ),
    "ex_learned_w_question": "The learned w (head 1, d2l mode, default data):",
    "ex_learned_w_hint": (
        "Look for the row *learned, head 1* in the table *Learned w next to the bandwidth "
        "rules*, column w."
    ),
    "ex_learned_w_solution": (
        "w ≈ {expected}. The score is -((x - x_i) w)^2 / 2, so a larger w makes the weights "
        "fall off faster with distance: the bandwidth h = 1/w is about {h}, far narrower than "
        "the leave-one-out optimum. The heatmap becomes a thin bright diagonal and the curve "
        "wiggles through the noise: the book's 5 SGD epochs on the summed loss overshoot. "
        "Switch to *converged* and train again to see the better w."
    ),
    "ex_hyperparameter_title": "A hyperparameter for the nonparametric model",
    "ex_hyperparameter_task": (
        "The book asks: *add hyperparameters to nonparametric Nadaraya-Watson kernel "
        "regression to predict better.* The width w is such a hyperparameter. Choose it "
        "without looking at the truth: move w and watch the *leave-one-out MSE* of "
        "nonparametric pooling (each training point predicted from the others)."
    ),
    "ex_hyperparameter_question": (
        "A w (gaussian kernel, default data) whose leave-one-out MSE is within 2% of the best:"
    ),
    "ex_hyperparameter_hint": (
        "Press Train once: the bandwidth table then lists the *leave-one-out optimum*. Or move "
        "the w slider and watch the *leave-one-out MSE* column of the metrics table."
    ),
    "ex_hyperparameter_solution": (
        "The leave-one-out optimum is w ≈ {expected} (h = 1/w ≈ {h}). Choosing w by "
        "leave-one-out is least-squares cross-validation: it needs no truth and no test set. "
        "Silverman's and Scott's rules give a w from the spread of x alone, so they ignore "
        "how fast f changes."
    ),
    "ex_multi_head_title": "Design another parametric pooling: several heads",
    "ex_multi_head_task": (
        "The book asks: *design a new parametric attention pooling for any key and query.* "
        "One answer is multi-head pooling: H kernels, each with its own w, mixed with learned "
        "weights. Open the page with Heads = 2 in converged mode (it trains on load) and "
        "compare with 1 head."
    ),
    "ex_multi_head_question": "Leave-one-out MSE of the trained 2-head model:",
    "ex_multi_head_hint": (
        "After training, the line under the Train button says *Trained in ... steps: "
        "leave-one-out MSE ...*."
    ),
    "ex_multi_head_solution": (
        "The 2-head model reaches a leave-one-out MSE of {expected} (1 head, converged: {one}). "
        "Each head is a Nadaraya-Watson pooling with its own bandwidth; the mixture lets the "
        "model blend a narrow and a wide window. Multi-head attention does the same with "
        "learned projections of queries, keys and values (see the self-attention page)."
    ),
    "ex_kernel_choice_title": "Choosing the kernel",
    "ex_kernel_choice_task": (
        "Keep w = 1 and switch the kernel. Watch the heatmap (compact kernels give exact "
        "zeros outside the window) and the leave-one-out MSE of nonparametric pooling."
    ),
    "ex_kernel_choice_question": (
        "At w = 1 on the default data, which kernel has the lowest leave-one-out MSE?"
    ),
    "ex_kernel_choice_hint": (
        "Each kernel's window has a different effective width at the same w: boxcar, "
        "triangular and epanechnikov are zero for |u| > 1; the gaussian never is."
    ),
    "ex_kernel_choice_solution": (
        "{expected}. Leave-one-out MSE at w = 1: {table}. The constant kernel is average "
        "pooling for every w. At a fixed w the kernels differ mostly in their effective "
        "width, so compare them at their own best w before calling one better."
    ),
    "ex_identity_title": "Gaussian Nadaraya-Watson is dot-product attention",
    "ex_identity_task": (
        "Expand the Gaussian score: -(x - x_i)^2 w^2 / "
        "2 = w^2 x x_i - w^2 x_i^2 / 2 - w^2 x^2 / 2. "
        "The last term is the same for every key, so the softmax ignores it. The link opens the "
        "scoring page with queries [x, 1] for x = 0.5 and 2, keys [a x_i, -a x_i^2 / 2] for "
        "x_i = 0, 1, 2, 3 with a = 1 to start, and the plain dot-product score. Try other a "
        "in the Keys box and watch the weights."
    ),
    "ex_identity_question": "Which a makes these weights equal Gaussian NW with w = 2?",
    "ex_identity_hint": (
        "Compare the coefficient of x x_i in the expansion with the key's first entry."
    ),
    "ex_identity_solution": (
        "a = w^2 = {expected}. Query [x, 1] and key [w^2 x_i, -w^2 x_i^2 / 2] give "
        "q.k = w^2 x x_i - w^2 x_i^2 / 2, the Gaussian score up to a term that depends on the "
        "query only. So Gaussian NW is scaled-dot-product attention on d + 1 features; nwcore "
        "uses this to run large NW problems as one fast matrix product."
    ),
    "ex_soft_hard_title": "Soft versus hard attention",
    "ex_soft_hard_task": (
        "The link opens the scoring page with the default inputs and hard (argmax) attention. "
        "Switch between soft, hard (argmax) and hard (sample) and watch the pooled outputs."
    ),
    "ex_soft_hard_question": "Hard (argmax) attention: what does query 3 pool to?",
    "ex_soft_hard_hint": "Find the largest weight in row *query 3* of the weights heatmap.",
    "ex_soft_hard_solution": (
        "{expected}: argmax takes the value of the single key with the largest weight. Soft "
        "attention returns the weighted average (the expectation of the value), which is "
        "smooth in the scores and trains with gradients; hard attention picks one key, so no "
        "gradient flows to the scores (it needs sampling tricks such as REINFORCE to train)."
    ),
    "ex_positional_title": "Why positional encoding?",
    "ex_positional_task": (
        "The link opens the self-attention page with the sentence *the cat sat on the mat* "
        "and positional encoding off. Compare the rows of the two *the* tokens, then switch "
        "positional encoding on."
    ),
    "ex_positional_question": (
        "Positional encoding off: how many different rows does head 1's attention matrix have?"
    ),
    "ex_positional_hint": (
        "Tokens 0 and 4 are the same word. What does attention know about a token?"
    ),
    "ex_positional_solution": (
        "{expected} different rows for 6 tokens: self-attention sees only the token vectors, "
        "so the two *the* tokens have identical queries and get identical rows, and shuffling "
        "the words only shuffles the output. Adding sin/cos(pos / 10000^(2j/d)) gives every "
        "position its own vector, so all 6 rows differ."
    ),
    # dash-fit: chart legend and heatmap option
    "legend_empty": "no key in the window",
    "heat_own": "one colour scale per heatmap ",
    # --- the live w view (issue 12, live-speed) ---
    "live_heading": "Live view: drag w inside the chart (computed in your browser)",
    "live_title_w": "live w",
    "live_slider": "log10(w / sidebar w) ",
    "live_series": "nonparametric (live w)",
    "live_caption": (
        "Drag the slider under the chart (log10 of w over the sidebar w: 0 is the sidebar "
        "w): the curve and its attention heatmap follow at once, computed in your browser, "
        "and nothing is sent to the server; hover a query to pick out its heatmap row. Click the "
        "heatmap to use the w in the chart's title as the sidebar w (and in the link). Every "
        "other number on the page (metrics, bandwidth table, link, export) uses the sidebar "
        "w = {w}. Dashed: the server's average and (when trained) parametric curves, which "
        "this slider does not move. Black crosses: queries with no key in the {kernel} "
        "window, given their nearest key's value."
    ),
    "live_binned": (
        "{keys} keys x {queries} queries is above the live limit ({cells} cells): the live "
        "view pools over binned keys (bin means); the server's curves above are exact."
    ),
    "live_thinned": (
        "The live heatmap shows every {stride}th query row ({shown} of {total}) so it redraws "
        "within a frame; the live curve uses every query."
    ),
    # the fit chart's title (dataset descriptions in the page's language)
    "fit_desc": "{label}: y = {formula} + N(0, {noise}^2), n = {n}, seed {seed}",
    "fit_sample": "{text} (a sample of {n} shown)",
    "ds_classic": "classic d2l",
    "ds_d2l_new": "newer d2l",
    "ds_step": "step",
    "ds_sinc": "sinc",
    "ds_linear": "linear",
}


LANGS = ("en", "zh")
LANG_NAMES = {"en": "English", "zh": "简体中文"}


def current_lang() -> str:
    """The session's language ("en" outside a Streamlit run, e.g. in doctests)."""
    try:
        from streamlit.runtime.scriptrunner import get_script_run_ctx  # noqa: PLC0415

        if get_script_run_ctx(suppress_warning=True) is None:
            return "en"
        import streamlit as st  # noqa: PLC0415

        lang = st.session_state.get("lang", "en")
    except Exception:  # noqa: BLE001 - text must always be available
        return "en"
    return lang if lang in LANGS else "en"


def table(lang: str) -> dict[str, str]:
    """The string table of a language."""
    if lang == "zh":
        from dashboard.text_zh import TEXT_ZH  # noqa: PLC0415

        return TEXT_ZH
    return TEXT


def t(key: str, lang: str | None = None, **fmt: object) -> str:
    """The text for `key` in the session's language, formatted with `fmt` (str.format)."""
    text = table(lang or current_lang())[key]
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
