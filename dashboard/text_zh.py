"""简体中文界面文字：与 dashboard/text.py 的 TEXT 键相同、{占位符} 相同。

术语沿用《动手学深度学习》中文版：注意力汇聚、查询、键、值、核回归、带宽、注意力权重、
多头注意力、自注意力、位置编码、加性注意力、缩放点积注意力。

Contract labels, by which users' notes and the tests find controls, stay as in English:
Kernel, w, Heads, Dataset and the curve names average / nonparametric / parametric;
the Chinese gloss goes into help texts.
The chart axes x and y (CHART_FIELDS) are the same symbols in both languages.
"""

from __future__ import annotations

# Chart fields written the same in both languages (the math symbols x and y).
CHART_FIELDS = ("f_x", "f_y")

TEXT_ZH: dict[str, str] = {
    # --- app shell --------------------------------------------------------------------------
    "app_title": "注意力汇聚实验室",
    "app_about": (
        "把 Nadaraya-Watson 核回归看作注意力：查询（query）观察各个键（训练数据的 x），"
        "把距离变成总和为 1 的注意力权重，再对值（训练数据的 y）加权汇聚。"
    ),
    "page_pooling": "注意力汇聚",
    "page_scoring": "注意力评分函数",
    "page_mha": "多头自注意力",
    "unexpected_error": (
        "本页出现了问题。请修改某个设置或刷新页面；如果再次出现，请告诉主持人"
        "（详细信息在服务器日志里）。"
    ),
    # --- page 1: controls -------------------------------------------------------------------
    "sidebar_data": "数据",
    "sidebar_model": "汇聚",
    "dataset": "Dataset",  # contract
    "dataset_csv": "你的 CSV 文件（上传）",
    "dataset_help": "数据集。默认是《动手学深度学习》的经典实验：每个人看到同一幅图。",
    "csv_upload": "CSV 文件",
    "csv_upload_help": "第一行是表头，之后每行一个数据点。在下面选择 x 列和 y 列。",
    "csv_x": "x 列",
    "csv_y": "y 列",
    "csv_waiting": "请在侧边栏上传 CSV 文件。在此之前页面显示 {previous}。",
    "csv_loaded": "已载入 {name}：{description}",
    "csv_refused": "没有使用这个文件：{reason}",
    "csv_kept": "仍然显示之前的数据（{previous}）。",
    "csv_sampled": (
        "文件有 {n} 行；为保持实时响应，页面使用其中固定的 {m} 行随机样本"
        "（训练和留一法要看每一对数据点）。"
    ),
    "csv_no_columns": (
        "文件只有 {count} 个数值列，需要两个（x 和 y）。请添加一个数值列或上传另一个文件。"
    ),
    "n_train": "n_train（训练样本数）",
    "n_train_help": "抽取多少个训练点（键）。",
    "noise": "noise（噪声）",
    "noise_help": "加到 f(x) 上的高斯噪声的标准差。",
    "seed": "seed（随机种子）",
    "seed_help": "种子相同，数据相同：换一个种子就抽取另一份样本。",
    "kernel": "Kernel",  # contract
    "kernel_help": "核函数：把距离 u = |x - x_i| w 变成权重 K(u)。",
    "w": "w",  # contract
    "w_help": (
        "宽度参数。w 大 = 窗口窄（曲线起伏大）；w 小 = 窗口宽（曲线平坦）。滑块是对数刻度。"
    ),
    "w_exact": "精确的 w（可选）",
    "w_exact_help": "可输入任意数，例如 0.37 或 1e-9；留空则使用滑块的值。",
    "w_exact_placeholder": "例如 0.37",
    "w_caption": "w = {w}，带宽 h = 1/w = {h}",
    "w_exact_bad": (
        "精确的 w：{value!r} 不是有限的数。请输入像 2.5 或 1e-3 这样的数，或清空输入框以使用滑块。"
    ),
    "w_start_book": "w 从 1 开始，这是书中实验使用的值。",
    "w_start_loo": "w 从这组数据的留一法最优值开始。",
    "w_start_silverman": "w 从这组数据的 Silverman 规则值开始。",
    "w_use_silverman": "使用 Silverman",
    "w_use_loo": "使用留一法最优值",
    "w_zero": (
        "w = 0 时每个键的权重都相同，所以非参数汇聚等于平均汇聚（带宽 1/w 为无穷大）。"
        "试试 w = {w1}。"
    ),
    "w_constant": (
        "常数核不依赖 w：任何 w 都得到平均汇聚，所以留一法的“最优”w 和学到的 w 都没有意义。"
    ),
    "w_negative": "核函数是对称的：w = {w} 与 w = {abs_w} 的效果完全相同。",
    "w_tiny": (
        "w = {w} 非常小：窗口比数据范围宽得多，拟合几乎是平的（平均汇聚）。"
        "对这些数据，试试 {lo} 到 {hi} 之间的 w。"
    ),
    "w_huge": (
        "w = {w} 非常大：窗口比数据点之间的间隔还窄，每个查询都只复制最近的训练点。"
        "对这些数据，试试 {lo} 到 {hi} 之间的 w。"
    ),
    "heads": "Heads",  # contract
    "heads_help": "头数：参数模型的每个头学习自己的 w，再由学到的混合权重组合起来。",
    "mode": "训练方式",
    "mode_help": (
        "d2l：书中的做法（SGD，学习率 0.5，5 轮），可能过冲到太窄的核。"
        "训练到收敛：训练到留一法的最优点。"
    ),
    "mode_d2l": "d2l（书中做法：5 轮 SGD）",
    "mode_converged": "训练到收敛（留一法最优）",
    # --- page 1: body -----------------------------------------------------------------------
    "pooling_title": "注意力汇聚：Nadaraya-Watson 核回归",
    "pooling_intro": (
        "每个查询 x（网格上的一个点）都关注全部训练点：键是它们的 x，值是它们的 y。"
        "**average**（平均汇聚）给每个键相同的权重 1/n；**nonparametric**（非参数汇聚）"
        "用你设定的 w 按核 K((x - x_i) w) 加权；**parametric**（带参数汇聚）从数据中学习 w"
        "（点击“训练”）。把鼠标移到拟合曲线上，可以看到该查询的那一行注意力权重。"
    ),
    "how_to_read": "怎样读这一页",
    "how_to_read_body": (
        "1. 在侧边栏选择 **Dataset**（数据集）和 **Kernel**（核函数），然后移动 **w**。\n"
        "2. 上方的图显示训练点、真实函数（已知时）和三条汇聚曲线。点击“曲线”下的名字可以"
        "隐藏或显示它们。\n"
        "3. 下方的热图是注意力权重：每行一个查询，每列一个键，都按 x 排序。明亮的对角线"
        "表示每个查询关注附近的键；颜色均匀表示每个键同样重要（平均汇聚）。\n"
        "4.“训练”为带参数模型拟合 w（每个头一个），并与 Silverman、Scott 规则和留一法"
        "最优值比较。\n"
        "5. 指标表说明哪种汇聚最接近真实函数、哪种对留出的点预测得最好。“导出”把训练好的"
        "模型打包成 ONNX。"
    ),
    "curves": "曲线",
    "series_truth": "真实函数",
    "series_points": "训练点",
    "series_average": "average",  # contract
    "series_nonparametric": "nonparametric",  # contract
    "series_parametric": "parametric",  # contract
    "fit_title": "拟合：{description}",
    "fit_alt": "拟合与注意力热图：{curves} 汇聚，核 {kernel}，w = {w}。",
    "fit_alt_static": (
        "拟合图：各汇聚方式随 x 的曲线与训练点；下方为每个查询（行）对每个键（列）的注意力权重。"
    ),
    "heat_title_np": "nonparametric 非参数汇聚（{kernel}，w = {w}）",
    "heat_title_param": "parametric 第 {head} 个头（w = {w}）",
    "heat_axis_query": "查询 x（已排序）",
    "heat_axis_key": "键 x_i（已排序）",
    "heat_downsampled": (
        "为保持浏览器流畅，热图只显示 {q_total} 个查询中的 {q} 个、{k_total} 个键中的 {k} 个"
        "（相邻键的权重已相加）；曲线和指标使用全部数据点。"
    ),
    "param_untrained": (
        "**parametric**：核 {kernel}、{heads} 个头、训练方式 {mode} 还没有训练。"
        "点击下方的**训练**来学习 w，并查看它的曲线和热图。"
    ),
    "empty_np": (
        "{kernel} 核在 |u| < 1 之外为零，所以当 w = {w}（h = {h}）时，{total} 个查询中有 "
        "{count} 个的窗口里没有训练点。它们复制最近训练点的 y（图中用叉号标出）。"
        "减小 w 可以加宽窗口。"
    ),
    "empty_underflow": (
        "w = {w} 时，{total} 个查询中有 {count} 个的 {kernel} 权重下溢为零"
        "（以 h = {h} 为单位，所有键都太远）。它们复制最近训练点的 y（图中用叉号标出）。"
        "减小 w 可以加宽窗口。"
    ),
    "empty_param": (
        "parametric 第 {heads} 个头：{total} 个查询中有 {count} 个的窗口为空，"
        "它们复制最近训练点的 y。"
    ),
    "section_train": "训练带参数的注意力汇聚",
    "train_button": "训练",
    "train_help": "用留一法的键从数据中学习 w（每个头一个）。",
    "train_running": "训练中：第 {step} 步，留一法 MSE {loss:.4g}",
    "train_done": "训练完成，共 {steps} 步：留一法 MSE {loss:.4g}。",
    "train_stale": "显示的已训练模型对应当前设置。",
    "loss_title": "训练过程中的留一法 MSE",
    "loss_step": "步",
    "loss_value": "留一法 MSE",
    "bandwidth_title": "学到的 w 与带宽规则对比",
    "bw_col_rule": "规则",
    "bw_col_w": "w",
    "bw_col_h": "h = 1/w",
    "bw_col_loo": "留一法 MSE",
    "bw_col_mix": "头的权重",
    "bw_slider": "你的 w（侧边栏）",
    "bw_silverman": "Silverman 规则",
    "bw_scott": "Scott 规则",
    "bw_loo": "留一法最优",
    "bw_head": "学到的，第 {head} 个头",
    "bw_untrained": (
        "训练之后，这里会列出每个头学到的 w，旁边是留一法最优值"
        "（用其余点预测每个训练点时最好的 w）。"
    ),
    "bw_d2l_note": (
        "d2l 方式在 5 轮 SGD 后停止；在经典数据上它会过冲到比留一法最优大得多的 w"
        "（窗口太窄）。切换到“训练到收敛”再训练一次来比较。"
    ),
    "section_metrics": "指标",
    "metrics_pooling": "汇聚",
    "metrics_test": "相对真实函数的测试 MSE",
    "metrics_loo": "留一法 MSE",
    "metrics_caption": (
        "测试 MSE 在查询网格上把每条曲线与无噪声的真实函数比较（仅限合成数据）。"
        "留一法 MSE 用其余点预测每个训练点。"
    ),
    "metrics_untrained": "请先训练",
    "metrics_no_truth": "无真实函数（CSV）",
    "section_export": "导出",
    "export_intro": (
        "把训练好的带参数模型打包成自包含的 ONNX 文件（训练用的键和值都在里面），"
        "附带模型卡，可在其他程序中使用。"
    ),
    "export_button": "导出 ONNX",
    "export_untrained": "请先训练带参数模型，然后才能导出。",
    "export_failed": "导出失败：{reason}",
    "export_done": "已导出：model.onnx 大小 {size} 字节；ONNX 与 torch 的差异为 {parity:.2g}。",
    "download_onnx": "下载 model.onnx",
    "download_card": "下载 model_card.json",
    "large_data": (
        "{n} 个训练点：留一法搜索、训练和热图都要用到全部 N x N 对，所以本页最多支持 {max} 个点。"
    ),
    # --- page 2 -----------------------------------------------------------------------------
    "scoring_title": "注意力评分函数",
    "scoring_intro": (
        "注意力先为每一对（查询，键）计算一个评分，用 softmax 把评分变成注意力权重，"
        "再对值加权汇聚。编辑查询、键和值（每行一个，数字用逗号分隔），选择评分函数，"
        "并用有效长度遮蔽一部分键。"
    ),
    "queries": "查询",
    "queries_help": "每行一个查询，例如 1, 0。",
    "keys": "键",
    "keys_help": "每行一个键；点积评分要求键与查询的数字个数相同。",
    "values": "值",
    "values_help": "每个键一个值（行数与“键”相同）；每行可以有多个数。",
    "scorer": "评分函数",
    "scorer_opt_additive": "加性",
    "scorer_opt_dot": "点积",
    "scorer_opt_scaled_dot": "缩放点积",
    "scorer_opt_bilinear": "双线性",
    "scorer_additive": "加性注意力：w_v^T tanh(W_q q + W_k k)",
    "scorer_dot": "点积：q^T k",
    "scorer_scaled_dot": "缩放点积注意力：q^T k / sqrt(d)",
    "scorer_bilinear": "双线性：q^T W k",
    "hidden": "隐藏层大小",
    "hidden_help": "加性注意力中 tanh 层的大小。",
    "param_seed": "W 的随机种子",
    "param_seed_help": "W_q、W_k、w_v（加性）和 W（双线性）是用这个种子生成的随机数。",
    "mask_mode": "遮蔽",
    "mask_none": "不遮蔽",
    "mask_shared": "所有查询共用一个有效长度",
    "mask_per_query": "每个查询一个有效长度",
    "valid_len": "有效长度",
    "valid_len_help": "序号 >= 有效长度的键权重为 0（填充）。",
    "valid_lens": "每个查询的有效长度",
    "valid_lens_help": "每个查询一个整数，用逗号分隔，例如 `3, 1`。",
    "attention_mode": "注意力",
    "att_soft": "软注意力（加权平均）",
    "att_argmax": "硬注意力（argmax）",
    "att_sample": "硬注意力（按权重抽样一个键）",
    "scores_title": "评分（查询 x 键）",
    "weights_title": "注意力权重（查询 x 键）",
    "weights_used_title": "{mode}实际使用的权重",
    "masked": "已遮蔽",
    "outputs_title": "汇聚输出",
    "outputs_caption": (
        "软注意力：每个输出是值的加权平均。硬注意力（argmax）：取权重最大的键的值。"
        "硬注意力（抽样）：按这些权重抽出一个键，取它的值。有效长度为 0 的查询不关注任何键，"
        "汇聚结果为零。"
    ),
    "parse_empty": "{what}为空：请至少输入一行数字，例如 1, 0。",
    "parse_bad": "{what}第 {line} 行：{value!r} 不是数字。请用逗号分隔数字，例如 1, 0.5。",
    "parse_ragged": (
        "{what}：第 {line} 行有 {got} 个数，但第 1 行有 {want} 个。请让每行的个数相同。"
    ),
    "parse_too_many": "{what}：这里最多 {max} 行，请删去一些行。",
    "valid_lens_count": "每个查询的有效长度：需要 {want} 个整数（每个查询一个），现在有 {got} 个。",
    "valid_lens_range": "每个查询的有效长度：{value!r} 不是 0 到 {max}（键的个数）之间的整数。",
    "fix_inputs": "请先按提示修改上面的输入框，然后就能看到分数和权重。",
    "values_count": "“值”有 {got} 行，而“键”有 {want} 行：每个键需要一行值。",
    "row_query": "查询 {i}",
    "row_key": "键 {i}",
    "col_out": "输出 {j}",
    # --- page 3 -----------------------------------------------------------------------------
    "mha_title": "多头自注意力",
    "mha_intro": (
        "在自注意力中，每个词元同时是查询、键和值。每个头先对词元做投影，用缩放点积给每一对"
        "打分并汇聚；输出投影 W_o 再把各个头的结果混合起来。这里的权重是随机的（由种子固定）："
        "重点是各部分如何组合，而不是它们学到了什么。"
    ),
    "seq_kind": "序列",
    "seq_sentence": "一句话",
    "seq_numbers": "一串数字",
    "sentence": "句子",
    "sentence_help": "用空格分隔的单词；每个单词是一个词元。",
    "numbers": "数字",
    "numbers_help": "用逗号分隔的数字，例如 `1, 2, 3, 2, 1`。",
    "embed_dim": "嵌入维度",
    "embed_dim_help": "每个词元的特征数 E；每个头分到 E / Heads 个。",
    "pos_enc": "位置编码",
    "pos_enc_help": "加上 sin/cos(pos / 10000^(2j/E))，让注意力能区分位置。",
    "mha_seed": "权重的随机种子",
    "mha_seed_help": "词元嵌入和各个投影是用这个种子生成的随机数。",
    "tokens_caption": "{count} 个词元：{tokens}",
    "too_many_tokens": "只使用前 {max} 个词元（给了 {count} 个）。",
    "no_tokens": "请至少输入一个词元（一个单词或一个数），才能看到注意力。",
    "pe_title": "位置编码（位置 x 特征）",
    "pe_off": (
        "位置编码已关闭：注意力看不到顺序，所以重复的词元得到完全相同的行，打乱词元只会打乱输出。"
    ),
    "heads_title": "每个头的注意力权重（查询词元 x 键词元）",
    "head_panel": "第 {head} 个头",
    "out_proj_title": "输出投影 W_o（输出 x 头的特征）",
    "out_row": "输出 {i}",
    "out_proj_caption": ("列按头分块，每块 E / Heads 列：W_o 决定每个头对每个输出特征贡献多少。"),
    "output_title": "该层的输出（词元 x 特征）",
    "number_bad": "数字：{value!r} 不是数字。请用逗号分隔，例如 1, 2, 3。",
    # --- chart fields (tooltips, axes) ------------------------------------------------------
    "f_x": "x",
    "f_y": "y",
    "f_series": "曲线",
    "f_query": "查询",
    "f_key": "键",
    "f_weight": "权重",
    "f_score": "评分",
    "f_softmax": "softmax 权重",
    "f_panel": "面板",
    "f_position": "位置",
    "f_feature": "特征",
    "f_out_feature": "输出特征",
    "f_value": "数值",
    "f_token": "词元",
    # --- workshop: language, links, URL notices ---------------------------------------------
    "page_exercises": "练习",
    "curves_help": "显示或隐藏每条曲线；你的选择也记录在本页链接中。",
    "share_title": "分享当前视图",
    "share_caption_pooling": (
        "链接记录了本页的控件（数据、种子、核、w……），和地址栏一样。上传的 CSV 文件无法放进"
        "链接；带 train=1 的链接打开时会重新训练（数据和种子相同，结果也相同）。"
    ),
    "share_caption_scoring": "链接记录了本页的输入和选项。",
    "share_caption_self-attention": "链接记录了本页的序列和设置。",
    "share_caption_exercises": "链接以相同的语言和选项打开本页；你的答案只留在这里。",
    "url_notice_title": "本页链接中的部分值没有被使用，页面改用默认值：",
    "url_invalid_line": "{name} = {value}：{reason} 改用 {default}。",
    "url_unknown": "{name} 不是本页的设置，已忽略。",
    "url_unknown_controls": "{name}：没有名为 {names} 的控件，已忽略。控件名称见 WORKSHOP.md。",
    "url_reason_repeated": "只能给一次。",
    "url_reason_choice": "必须是 {options} 之一。",
    "url_reason_number": "不是数字。",
    "url_reason_whole": "必须是整数。",
    "url_reason_range": "必须在 {lo} 到 {hi} 之间。",
    "url_reason_flag": "必须是 true 或 false。",
    "url_reason_w_grid": "必须是 w 滑块上的值，例如 0.1、1、3.16 或 10。",
    "url_default_w": "这组数据的起始 w",
    "url_reason_csv": "上传的 CSV 文件无法放进链接；请选择数据集 csv 并重新上传文件。",
    "train_from_link": "这个链接要求显示训练好的模型：正在训练（数据相同，种子相同）。",
    "train_too_large": (
        "以 {mode} 方式、{heads} 个头训练时，每一步都要对全部 N x N 对计算梯度；{n} 个点对共享"
        "服务器来说太重了。请把 n_train 降到 {max} 或以下，或者使用“训练到收敛”方式、1 个头"
        "（任何 n 都很快）。"
    ),
    "train_link_csv": (
        "这个链接要求显示训练好的模型，但上传的数据无法放进链接：请上传文件后点击训练。"
    ),
    # --- workshop: the exercises page ------------------------------------------------------
    "ex_title": "练习",
    "ex_intro": (
        "八道关于注意力汇聚的练习：前四道来自书中“Nadaraya-Watson 核回归”一节的练习，"
        "后四道是核函数的选择、高斯核回归 = 点积注意力的恒等式、软注意力与硬注意力、"
        "位置编码。每道题：在应用中完成任务（按钮会在新标签页中打开设置好的页面），"
        "输入答案，点击“检查”。提示和答案折叠在每道题下面。"
    ),
    "ex_heading": "练习 {n}：{title}",
    "ex_open": "打开本题要用的页面",
    "ex_answer": "你的答案",
    "ex_check": "检查",
    "ex_right": "对：这个答案成立。读一读答案解析，对照你的推理。",
    "ex_not_yet": "还不对：这个答案不成立。再看看页面，或者打开提示。",
    "ex_empty": "请先输入一个数。",
    "ex_not_number": "{value!r} 不是数字：请输入一个数，例如 0.25 或 1e-3。",
    "ex_hint": "提示",
    "ex_solution": "答案",
    "ex_expected": "参考答案：{expected}",
    "ex_more_data_title": "更多的训练数据",
    "ex_more_data_task": (
        "书中的问题：“增加训练数据的样本数量，能否得到更好的非参数注意力汇聚模型？”"
        "用 n_train = 500 打开页面（核 gaussian，w = 1，默认种子），读指标表。"
        "然后把 n_train 调回 50 进行比较。"
    ),
    "ex_more_data_question": "n_train = 500 时 **nonparametric** 汇聚的测试 MSE：",
    "ex_more_data_hint": (
        "图下方的指标表中，找“nonparametric”这一行和“相对真实函数的测试 MSE”这一列。"
    ),
    "ex_more_data_solution": (
        "w = 1 时，测试 MSE 从 {n50}（50 个点）降到 {n500}（500 个点）。键越多，每个查询的窗口里"
        "训练点越多，噪声被平均掉。但窗口宽度仍固定为 h = 1/w = 1：在 f 弯曲的地方估计仍有偏差，"
        "所以当 w 随 n 增大（窗口变窄）时，更多数据的帮助最大。"
    ),
    "ex_learned_w_title": "学到的 w 起什么作用？",
    "ex_learned_w_task": (
        "书中的问题：“在带参数的注意力汇聚实验中学习得到的参数 w 的价值是什么？为什么在可视化"
        "注意力权重时，它会使加权区域更加尖锐？”打开页面（打开时自动以 d2l 方式训练：书中的 5 轮"
        " SGD），读带宽规则旁边的表格。"
    ),
    "ex_learned_w_question": "学到的 w（第 1 个头，d2l 方式，默认数据）：",
    "ex_learned_w_hint": "在“学到的 w 与带宽规则对比”表中找“学到的，第 1 个头”这一行的 w 列。",
    "ex_learned_w_solution": (
        "w ≈ {expected}。评分是 -((x - x_i) w)^2 / 2，w 越大，权重随距离下降得越快：带宽 h = 1/w"
        " 约为 {h}，比留一法最优值窄得多。热图变成一条细亮的对角线，曲线跟着噪声起伏："
        "书中对求和损失做 5 轮 SGD 会过冲。切换到“训练到收敛”再训练，就能看到更好的 w。"
    ),
    "ex_hyperparameter_title": "给非参数模型加一个超参数",
    "ex_hyperparameter_task": (
        "书中的问题：“为本节的非参数 Nadaraya-Watson 核回归添加超参数，以实现更好的预测结果。”"
        "宽度 w 就是这样的超参数。不看真实函数来选它：移动 w，观察 nonparametric 汇聚的"
        "留一法 MSE（用其余点预测每个训练点）。"
    ),
    "ex_hyperparameter_question": (
        "一个 w（高斯核，默认数据），使留一法 MSE 与最优值相差不超过 2%："
    ),
    "ex_hyperparameter_hint": (
        "点一次训练：带宽表会列出“留一法最优”。或者移动 w 滑块，观察指标表的“留一法 MSE”列。"
    ),
    "ex_hyperparameter_solution": (
        "留一法最优值为 w ≈ {expected}（h = 1/w ≈ {h}）。用留一法选 w 就是最小二乘交叉验证："
        "不需要真实函数，也不需要测试集。Silverman 和 Scott 规则只根据 x 的分散程度给出 w，"
        "不考虑 f 变化得有多快。"
    ),
    "ex_multi_head_title": "设计另一种带参数的汇聚：多个头",
    "ex_multi_head_task": (
        "书中的问题：“为任意键和查询设计一个新的带参数的注意力汇聚模型。”一个答案是多头汇聚："
        "H 个核，各有自己的 w，用学到的权重混合。用 Heads = 2、“训练到收敛”方式打开页面"
        "（打开时自动训练），并与 1 个头比较。"
    ),
    "ex_multi_head_question": "训练好的 2 头模型的留一法 MSE：",
    "ex_multi_head_hint": "训练后，训练按钮下面一行写着“训练完成，共 … 步：留一法 MSE …”。",
    "ex_multi_head_solution": (
        "2 头模型的留一法 MSE 为 {expected}（1 个头、训练到收敛：{one}）。每个头都是有自己带宽的"
        " Nadaraya-Watson 汇聚；"
        "混合权重让模型能把窄窗口和宽窗口结合起来。多头注意力做的是同一件事，"
        "只是对查询、键和值使用学到的投影（见多头自注意力页面）。"
    ),
    "ex_kernel_choice_title": "选择核函数",
    "ex_kernel_choice_task": (
        "保持 w = 1，切换核函数。观察热图（紧支撑核在窗口外的权重恰好为零）"
        "和 nonparametric 汇聚的留一法 MSE。"
    ),
    "ex_kernel_choice_question": "在默认数据上、w = 1 时，哪个核的留一法 MSE 最低？",
    "ex_kernel_choice_hint": (
        "同一个 w 下，不同核的有效窗口宽度不同：boxcar、triangular 和 epanechnikov 在 |u| > 1 时"
        "为零；gaussian 永远不为零。"
    ),
    "ex_kernel_choice_solution": (
        "{expected}。w = 1 时的留一法 MSE：{table}。常数核对任何 w 都是平均汇聚。在固定的 w 下，"
        "各个核的差别主要在有效宽度，所以要在各自最好的 w 下比较，才能说哪个核更好。"
    ),
    "ex_identity_title": "高斯核回归就是点积注意力",
    "ex_identity_task": (
        "展开高斯评分：-(x - x_i)^2 w^2 / 2 = w^2 x x_i - w^2 x_i^2 / 2 - w^2 x^2 / 2。"
        "最后一项对每个键都相同，softmax 会把它消掉。链接会打开评分函数页面：查询为 [x, 1]"
        "（x = 0.5 和 2），键为 [a x_i, -a x_i^2 / 2]（x_i = 0, 1, 2, 3，"
        "先取 a = 1），评分函数为普通点积。在键的输入框里试试别的 a，观察权重的变化。"
    ),
    "ex_identity_question": "a 取多少时，这些注意力权重等于 w = 2 的高斯 Nadaraya-Watson 权重？",
    "ex_identity_hint": "把展开式中 x x_i 的系数与键的第一个分量比较。",
    "ex_identity_solution": (
        "a = w^2 = {expected}。查询 [x, 1] 与键 [w^2 x_i, -w^2 x_i^2 / 2] 的点积为 "
        "w^2 x x_i - w^2 x_i^2 / 2，与高斯评分只差一个只依赖查询的项。所以高斯核回归就是在 d + 1 "
        "个特征上的缩放点积注意力；nwcore 用它把大规模核回归算成一次快速矩阵乘法。"
    ),
    "ex_soft_hard_title": "软注意力与硬注意力",
    "ex_soft_hard_task": (
        "链接会用默认输入和硬注意力（argmax）打开评分函数页面。在软注意力、硬注意力（argmax）"
        "和硬注意力（抽样）之间切换，观察汇聚输出。"
    ),
    "ex_soft_hard_question": "硬注意力（argmax）：查询 3 的汇聚结果是多少？",
    "ex_soft_hard_hint": "在注意力权重热图的“查询 3”这一行中找最大的权重。",
    "ex_soft_hard_solution": (
        "{expected}：argmax 取权重最大的那一个键的值。软注意力返回加权平均（值的期望），"
        "它对评分是光滑的，可以用梯度训练；硬注意力只选一个键，梯度传不回评分"
        "（训练时需要 REINFORCE 之类的抽样技巧）。"
    ),
    "ex_positional_title": "为什么需要位置编码？",
    "ex_positional_task": (
        "链接会打开多头自注意力页面，句子为“the cat sat on the mat”，位置编码关闭。"
        "比较两个“the”词元的行，然后打开位置编码。"
    ),
    "ex_positional_question": "位置编码关闭时，第 1 个头的注意力矩阵有多少个不同的行？",
    "ex_positional_hint": "词元 0 和词元 4 是同一个词。注意力对一个词元知道些什么？",
    "ex_positional_solution": (
        "6 个词元只有 {expected} 个不同的行：自注意力只看到词元向量，所以两个“the”的查询相同，"
        "得到相同的行；打乱单词只会打乱输出。加上 sin/cos(pos / 10000^(2j/d)) 后，每个位置都有"
        "自己的向量，6 行就各不相同了。"
    ),
    # dash-fit: chart legend and heatmap option
    "legend_empty": "窗口内没有键",
    "heat_own": "每个热图各用一个色标 ",
    # --- the live w view (issue 12, live-speed) ---
    "live_heading": "实时视图：在图中拖动 w（在你的浏览器中计算）",
    "live_title_w": "实时 w",
    "live_slider": "log10(w / 侧栏 w) ",
    "live_series": "非参数（实时 w）",
    "live_caption": (
        "拖动图下方的滑块（w 与侧栏 w 之比的 log10：0 即侧栏的 w）：曲线和注意力热图会立即"
        "跟着变化，全部在你的浏览器中计算，不向服务器发送任何消息；把指针移到某个查询上可突出"
        "它在热图中的那一行。点击热图，即可把图标题中的 w 用作侧栏的 w（链接也随之更新）。"
        "页面上其他所有数字（指标、带宽表、链接、导出）都使用侧栏的 w = {w}。虚线：服务器算出的"
        "平均汇聚曲线和（训练后的）参数化曲线，不随这个滑块变化。黑色叉号：{kernel} 核窗口内"
        "没有任何键的查询，取最近键的值。"
    ),
    "live_binned": (
        "{keys} 个键 x {queries} 个查询超过了实时上限（{cells} 个单元）：实时视图对分箱后的键"
        "（箱内均值）做汇聚；上方服务器的曲线是精确的。"
    ),
    "live_thinned": (
        "为了在一帧内重绘，实时热图每隔 {stride} 行显示一个查询（共 {total} 行，显示 {shown} 行）；"
        "实时曲线使用全部查询。"
    ),
    # the fit chart's title (dataset descriptions in the page's language)
    "fit_desc": "{label}：y = {formula} + N(0, {noise}^2)，n = {n}，种子 {seed}",
    "fit_sample": "{text}（显示 {n} 个点的样本）",
    "ds_classic": "经典 d2l",
    "ds_d2l_new": "新版 d2l",
    "ds_step": "阶跃",
    "ds_sinc": "sinc 函数",
    "ds_linear": "线性",
}
