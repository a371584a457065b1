"""The control socket: the scheduler outlives the terminal.

Every running scheduler serves ``<state>/control.sock`` (``server.ControlServer``); the
``tui-sched ctl`` command and ``tui-sched attach`` are its clients (``client``). The
messages are in ``protocol``. This package never imports Textual.
"""
