"""Example tasks: one of each kind, a pipeline, a timeout, a failure and metatasks.

Safe on any machine: no network, no files written (history goes to .tui-sched/).
Edit this file while tui-sched runs and watch it reload.
"""

import asyncio
import random
import time

from tui_sched import App
from tui_sched.args import Return, Session, TerminationFlag

app = App()


# A function task (runs on a worker thread by default) feeding a pipeline.
@app.task("every 15 seconds")
def fetch_numbers():
    numbers = [random.randint(1, 100) for _ in range(5)]
    print(f"fetched {numbers}")
    return numbers


@app.task("after task 'fetch_numbers'")
def summarise(numbers=Return("fetch_numbers")):
    print(f"sum={sum(numbers)} max={max(numbers)}")


# Coroutines run on the scheduler's event loop.
@app.task("every 30 seconds")
async def heartbeat():
    await asyncio.sleep(0.1)
    print("still alive")


# CPU work in a separate process (sent by reference, so it survives reloads).
@app.task("every 1 minute", execution="process")
def count_primes(limit=20_000):
    primes = sum(all(n % d for d in range(2, int(n**0.5) + 1)) for n in range(2, limit))
    print(f"{primes} primes below {limit}")
    return primes


# A command (through the shell, because it is a string) and a code string.
app.task("every 2 minutes", command='echo "Hello from the shell"; uname -s', name="hello_shell")
app.task("every 5 minutes", code='print("Hello from a code task")', name="hello_code")

# A function imported only when it runs (path relative to this file).
app.task("daily", func_name="main", path="helpers/report.py")


# Overruns its timeout now and then: it is terminated and recorded as such.
@app.task("every 20 seconds", timeout="2 seconds")
def sometimes_slow(stop=TerminationFlag()):
    if stop.wait(random.choice([0.5, 5])):
        print("asked to stop; stopping")


# Fails about one run in three, with a traceback in its history.
@app.task("every 45 seconds")
def flaky():
    if random.random() < 1 / 3:
        raise ConnectionError("upstream did not answer (simulated)")
    time.sleep(0.2)


# Metatasks: no condition, so they run only when forced (key `f` in the UI).
@app.task(execution="thread")
def toggle_flaky(session=Session()):
    task = session["flaky"]
    task.disabled = not task.disabled
    print(f"flaky is now {'disabled' if task.disabled else 'enabled'}")


@app.task(execution="thread")
def run_everything_now(session=Session()):
    for task in session.tasks:
        if task.name not in ("run_everything_now", "toggle_flaky"):
            task.force_run = True


if __name__ == "__main__":
    app.run()
