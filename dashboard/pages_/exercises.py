"""Page 4: the workshop's exercises, each with a task in the app, a self-check, hint, solution."""

from __future__ import annotations

import streamlit as st

from dashboard import params, urlstate
from dashboard.common import run_page
from dashboard.exercises import EXERCISES, Exercise, solution_values
from dashboard.text import current_lang, t

KEEP = params.KEEP
PAGE = "exercises"


def _link(ex: Exercise) -> str:
    """The task's page with its settings, in the session's language and facilitator options."""
    extra = {k: st.query_params.get_all(k) for k in ("hide", "lock") if k in st.query_params}
    lang = {"lang": "zh"} if current_lang() == "zh" else {}
    return urlstate.link(ex.page, {**ex.params, **lang, **extra})


def _answer(ex: Exercise) -> object:
    key = f"ex_{ex.id}_answer"
    question = t(f"ex_{ex.id}_question")
    if ex.kind == "choice":
        return st.radio(question, list(ex.options), index=None, key=key, horizontal=True, **KEEP)
    return st.text_input(question, key=key, placeholder=t("ex_answer"), **KEEP)


def exercise(n: int, ex: Exercise) -> None:
    st.subheader(t("ex_heading", n=n, title=t(f"ex_{ex.id}_title")))
    st.markdown(t(f"ex_{ex.id}_task"))
    st.link_button(t("ex_open"), _link(ex), icon=":material/open_in_new:")
    answer = _answer(ex)
    if st.button(t("ex_check"), key=f"ex_{ex.id}_check"):
        if answer is None or (isinstance(answer, str) and not answer.strip()):
            st.session_state[f"_ex_{ex.id}_verdict"] = None
            st.info(t("ex_empty"))
        else:
            with st.spinner():
                verdict = ex.check(answer.strip() if isinstance(answer, str) else answer)
            st.session_state[f"_ex_{ex.id}_verdict"] = (answer, verdict.ok)
    saved = st.session_state.get(f"_ex_{ex.id}_verdict")
    if saved is not None and saved[0] == answer:  # the verdict is for the answer shown
        (st.success if saved[1] else st.warning)(t("ex_right" if saved[1] else "ex_not_yet"))
    with st.expander(t("ex_hint")):
        st.markdown(t(f"ex_{ex.id}_hint"))
    key = f"ex_{ex.id}_solution"
    if urlstate.hidden(key):  # the facilitator keeps this solution for later
        shown = urlstate.url_value(key, urlstate.flag(False))
    else:
        shown = st.toggle(t("ex_solution"), key=key, disabled=urlstate.locked(key), **KEEP)
    if shown:
        with st.spinner():
            values = solution_values(ex.id)
        st.markdown(t(f"ex_{ex.id}_solution", **values))
    st.divider()


def body() -> None:
    specs = params.exercises()
    with urlstate.page_frame(PAGE, specs, params.ALL_KEYS, t("ex_title"), t("ex_intro")):
        for n, ex in enumerate(EXERCISES, start=1):
            exercise(n, ex)


run_page(body)
urlstate.finish(PAGE)  # after the page: an invalid URL value is put back to its default
