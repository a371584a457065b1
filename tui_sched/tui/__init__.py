"""The terminal UI: the only package that imports Textual.

``tui_sched.tui.app.run_tui`` is the entry point; the engine reaches the UI only through
``bridge.Bridge`` (bus events -> Textual messages). ``model`` and ``control`` import no
Textual: they are the values the widgets show and the commands the keys send.
"""
