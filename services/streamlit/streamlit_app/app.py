"""Entry point: `streamlit run streamlit_app/app.py`. Each page is a script under views/."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

VIEWS = Path(__file__).parent / "views"


def main() -> None:
    st.set_page_config(
        page_title="proyecto4 · flight delays", page_icon=":material/flight_takeoff:", layout="wide"
    )
    page = st.navigation(
        [
            st.Page(
                VIEWS / "predict.py",
                title="Predict",
                icon=":material/flight_takeoff:",
                default=True,
            ),
            st.Page(VIEWS / "history.py", title="Model history", icon=":material/history:"),
            st.Page(VIEWS / "explain.py", title="Explainability", icon=":material/insights:"),
            st.Page(VIEWS / "monitor.py", title="Monitoring", icon=":material/monitoring:"),
        ]
    )
    page.run()


main()
