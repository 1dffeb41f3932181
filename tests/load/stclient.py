"""A minimal Streamlit client speaking the app's own websocket protocol (protobuf frames).

It does what the browser does on each interaction, without rendering: send a `rerun_script`
BackMsg carrying every widget's current value, then read ForwardMsgs until `script_finished`.
That exercises the server exactly as a class of participants would, at a fraction of the
cost of 30 Chromium tabs on a 2-core machine.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode

import pyarrow as pa
import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.Slider_pb2 import Slider
from streamlit.proto.WidgetStates_pb2 import WidgetState

_SELECT_SLIDER = Slider.Type.Value("SELECT_SLIDER")
# element type -> WidgetState field that carries its value
_VALUE_FIELD = {
    "slider": "double_array_value",
    "select_slider": "string_array_value",
    "selectbox": "string_value",
    "radio": "string_value",
    "number_input": "double_value",
    "text_input": "string_value",
    "text_area": "string_value",
    "checkbox": "bool_value",
    "toggle": "bool_value",
    "button": "trigger_value",
    "segmented_control": "string_array_value",
    "button_group": "string_array_value",
    "multiselect": "string_array_value",
}


@dataclass
class Widget:
    id: str
    kind: str
    label: str
    proto: object


@dataclass
class RunResult:
    seconds: float
    texts: list[str] = field(default_factory=list)  # markdown/text/alert bodies, in order
    errors: list[str] = field(default_factory=list)  # st.error bodies
    exceptions: list[str] = field(default_factory=list)  # tracebacks the page would show
    charts: list[str] = field(default_factory=list)  # Vega-Lite specs (JSON), chart titles


class StreamlitSession:
    """One participant's browser tab, as a protocol client.

    Like a browser it keeps the cookies it is given (a proxy's sticky-session cookie) and the
    address's query string as the page last set it (`page_info_changed`), so a tab that
    reconnects can ask for the same view again: `await session.rerun(session.query_string)`.
    """

    def __init__(
        self,
        url: str,
        timeout: float = 60.0,
        cookies: dict[str, str] | None = None,
        resume: str | None = None,
    ):
        self.url = url
        self.resume = resume  # a session id to reconnect to, as a browser does after a blip
        self.session_id = ""
        self.timeout = timeout
        self.ws = None
        self.widgets: dict[str, Widget] = {}  # by label
        self.states: dict[str, WidgetState] = {}  # by widget id
        self.page_script_hash = ""
        self.cookies: dict[str, str] = dict(cookies or {})
        self.query_string = ""

    async def __aenter__(self) -> StreamlitSession:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        self.ws = await websockets.connect(
            self.url,
            # Streamlit reads (subprotocol, XSRF token, session to resume) from this header
            subprotocols=["streamlit", "none", self.resume] if self.resume else ["streamlit"],
            max_size=64 * 2**20,
            open_timeout=self.timeout,
            additional_headers=headers if self.cookies else None,
        )
        for line in self.ws.response.headers.get_all("Set-Cookie"):
            name, _, rest = line.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0].strip()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.ws.close()

    async def rerun(self, query_string: str | None = None) -> RunResult:
        """One interaction: send every widget's value, wait until the script has finished.

        The query string is the address's (None: as the page last set it, as a browser does)."""
        start = time.perf_counter()
        await self.send_rerun(query_string)
        return await self.read_run(start)

    async def send_rerun(self, query_string: str | None = None) -> None:
        if query_string is not None:
            self.query_string = query_string
        msg = BackMsg()
        rerun = msg.rerun_script
        rerun.query_string = self.query_string
        rerun.page_script_hash = self.page_script_hash
        rerun.widget_states.widgets.extend(self.states.values())
        await self.ws.send(msg.SerializeToString())
        # triggers (buttons) fire once
        for wid in [w for w, s in self.states.items() if s.WhichOneof("value") == "trigger_value"]:
            del self.states[wid]

    async def read_run(self, start: float) -> RunResult:
        result = RunResult(seconds=0.0)
        while True:
            raw = await asyncio.wait_for(self.ws.recv(), self.timeout)
            fwd = ForwardMsg()
            fwd.ParseFromString(raw)
            kind = fwd.WhichOneof("type")
            if kind == "new_session":
                self.page_script_hash = fwd.new_session.page_script_hash
                self.session_id = fwd.new_session.initialize.session_id
            elif kind == "page_info_changed":
                self._page_sets_query(fwd.page_info_changed.query_string)
            elif kind == "delta":
                self._read_delta(fwd.delta, result)
            elif kind == "script_finished":
                status = ForwardMsg.ScriptFinishedStatus.Name(fwd.script_finished)
                if status == "FINISHED_EARLY_FOR_RERUN":
                    continue  # a newer run follows on the same connection
                if status != "FINISHED_SUCCESSFULLY":
                    result.exceptions.append(f"script finished with {status}")
                result.seconds = time.perf_counter() - start
                return result

    def _page_sets_query(self, query: str) -> None:
        """The page set the address's query string; like the browser, keep the parameters of
        widgets bound to it (`bind="query-params"`: the browser writes those itself)."""
        bound = {getattr(w.proto, "query_param_key", "") for w in self.widgets.values()} - {""}
        kept = [(k, v) for k, v in parse_qsl(self.query_string) if k in bound]
        given = parse_qsl(query, keep_blank_values=True)
        names = {k for k, _ in given}
        self.query_string = urlencode([(k, v) for k, v in kept if k not in names] + given)

    def _read_delta(self, delta, result: RunResult) -> None:
        if delta.WhichOneof("type") != "new_element":
            return
        element = delta.new_element
        kind = element.WhichOneof("type")
        if kind in _VALUE_FIELD:
            proto = getattr(element, kind)
            self.widgets[proto.label] = Widget(proto.id, kind, proto.label, proto)
        elif kind == "exception":
            exc = element.exception
            result.exceptions.append(f"{exc.type}: {exc.message}\n" + "\n".join(exc.stack_trace))
        elif kind == "alert":
            result.texts.append(element.alert.body)
            if element.alert.format == 1:  # ERROR
                result.errors.append(element.alert.body)
        elif kind in ("markdown", "text"):
            result.texts.append(getattr(element, kind).body)
        elif kind == "progress":
            result.texts.append(element.progress.text)
        elif kind == "vega_lite_chart":
            chart = element.vega_lite_chart
            result.charts.append(chart.spec)
            for data in chart.datasets:  # a chart's title can travel as data (the fit chart's)
                if data.name == "meta":
                    table = pa.ipc.open_stream(data.data.data).read_all()
                    result.charts += [str(v) for col in table.columns for v in col.to_pylist()]

    def set(self, label: str, value) -> None:
        """Set a widget (found by its visible label) for the next rerun."""
        widget = self.widgets[label]
        state = WidgetState(id=widget.id)
        field_name = _VALUE_FIELD[widget.kind]
        if widget.kind == "slider" and widget.proto.type == _SELECT_SLIDER:
            field_name = "string_array_value"  # select_slider shares the Slider proto
        if field_name == "double_array_value":
            state.double_array_value.data.extend([float(v) for v in _as_list(value)])
        elif field_name == "string_array_value":
            state.string_array_value.data.extend([str(v) for v in _as_list(value)])
        elif field_name == "trigger_value":
            state.trigger_value = True
        else:
            setattr(state, field_name, value)
        self.states[widget.id] = state


def _as_list(value) -> list:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def run_sync(coroutine):
    """asyncio.run in a thread of its own, so it works where an event loop already runs
    (the browser tests' Playwright keeps one running in pytest's thread)."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()
