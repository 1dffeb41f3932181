"""Page 4: the workshop's exercises, each with a task in the app, a self-check, hint, solution."""

from __future__ import annotations

import math

import streamlit as st

from dashboard import params, urlstate
from dashboard.common import run_page
from dashboard.controls import draw
from dashboard.exercises import EXERCISES, Exercise, solution_values
from dashboard.text import current_lang, plain, t

PAGE = "exercises"


def _link(ex: Exercise) -> str:
    """The task's page with its settings, in the session's language and facilitator options."""
    extra = {k: st.query_params.get_all(k) for k in ("hide", "lock") if k in st.query_params}
    if "hide" in ex.params:  # the exercise's own hidden controls join the facilitator's
        extra["hide"] = [",".join([ex.params["hide"], *extra.get("hide", [])])]
    lang = {"lang": "zh"} if current_lang() == "zh" else {}
    return urlstate.link(ex.page, {**ex.params, **lang, **extra})


def _number(answer: str) -> bool:
    try:
        return math.isfinite(float(answer))
    except ValueError:
        return False


def exercise(n: int, ex: Exercise) -> None:
    st.subheader(t("ex_heading", n=n, title=t(f"ex_{ex.id}_title")))
    st.markdown(t(f"ex_{ex.id}_task"))
    st.link_button(t("ex_open"), _link(ex), icon=":material/open_in_new:")
    answer = draw(params.EXERCISES, f"ex_{ex.id}_answer")[f"ex_{ex.id}_answer"]
    if isinstance(answer, str):
        answer = answer.strip()
    if st.button(t("ex_check"), key=f"ex_{ex.id}_check"):
        st.session_state[f"_ex_{ex.id}_verdict"] = None
        if not answer:
            st.info(t("ex_empty"))
        elif ex.kind == "number" and not _number(answer):
            st.error(plain(t("ex_not_number", value=answer)))  # a typo, not a wrong answer
        else:
            with st.spinner():
                verdict = ex.check(answer)
            st.session_state[f"_ex_{ex.id}_verdict"] = (answer, verdict.ok)
    saved = st.session_state.get(f"_ex_{ex.id}_verdict")
    if saved is not None and saved[0] == answer:  # the verdict is for the answer shown
        (st.success if saved[1] else st.warning)(t("ex_right" if saved[1] else "ex_not_yet"))
    with st.expander(t("ex_hint")):
        st.markdown(t(f"ex_{ex.id}_hint"))
    if draw(params.EXERCISES, f"ex_{ex.id}_solution")[f"ex_{ex.id}_solution"]:
        with st.spinner():
            values = solution_values(ex.id)
        st.markdown(t(f"ex_{ex.id}_solution", **values))
    st.divider()


def body() -> None:
    with urlstate.page_frame(PAGE, params.EXERCISES, params.ALL_KEYS, t("ex_title"), t("ex_intro")):
        for n, ex in enumerate(EXERCISES, start=1):
            exercise(n, ex)


run_page(body)
urlstate.finish(PAGE)  # after the page: an invalid URL value is put back to its default
