#!/usr/bin/env python3
# tests/repl/pty_test.py — drives the real REPL in a terminal (tmux, 120x40) and checks the screen.
# Usage: pty_test.py XPR CASE. Exit 0 pass, 1 fail, 77 skipped (no tmux).
import os
import shutil
import subprocess
import sys
import tempfile
import time

XPR, CASE = sys.argv[1], sys.argv[2]
TMUX = shutil.which("tmux")
if not TMUX:
    print("SKIP: tmux is not installed")
    sys.exit(77)

SOCKET = f"xpr-test-{os.getpid()}"
STATE = tempfile.mkdtemp(prefix="xpr-pty-")


def tmux(*args, check=True):
    r = subprocess.run([TMUX, "-L", SOCKET, *args], capture_output=True, text=True)
    if check and r.returncode != 0:
        # Not fail(): that captures the screen, which needs tmux again.
        print(f"FAIL [{CASE}]: tmux {' '.join(args[:1])} exited {r.returncode}: {r.stderr.strip()}")
        sys.exit(1)
    return r


def screen():
    return tmux("capture-pane", "-p", "-t", "xpr").stdout


def wait_for(text, timeout=20.0, after=None):
    """Waits until `text` is on the screen (below the line holding `after`, when given)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        s = screen()
        if after is not None:
            i = s.rfind(after)
            s = s[i + len(after):] if i >= 0 else ""
        if text in s:
            return
        time.sleep(0.05)
    fail(f"timed out waiting for {text!r}")


def fail(msg):
    print(f"FAIL [{CASE}]: {msg}\n--- screen ---\n{screen()}--------------")
    sys.exit(1)


def expect(cond, msg):
    if not cond:
        fail(msg)


def keys(*k):
    tmux("send-keys", "-t", "xpr", *k)


def typed(text):
    keys("-l", text)


def prompt_count():
    # capture-pane drops trailing blanks: an empty prompt line reads "xpr>".
    return sum(1 for line in screen().splitlines() if line.startswith("xpr>"))


def start(env_extra=None):
    env = {"XDG_STATE_HOME": STATE, "TERM": "xterm-256color", "NO_COLOR": "1"}
    env.update(env_extra or {})
    envs = " ".join(f"{k}={v}" for k, v in env.items())
    # The shell around xpr prints its exit status when it ends (tmux's own pane_dead_status
    # sometimes lags behind the pane's death).
    tmux("new-session", "-d", "-s", "xpr", "-x", "120", "-y", "40",
         f"env {envs} sh -c '{XPR}; echo xpr-exit-status=$?; sleep 600'")
    wait_for("xpr>")


def enter_and_wait(line):
    n = prompt_count()
    typed(line)
    keys("Enter")
    deadline = time.time() + 30
    while time.time() < deadline:
        if prompt_count() > n:
            return
        time.sleep(0.05)
    fail(f"no new prompt after {line!r}")


def lines():
    return [l.rstrip() for l in screen().splitlines()]


def case_banner_and_eval():
    wait_for(":help for help, Ctrl-D to leave.")
    enter_and_wait("a = arange(5)")
    enter_and_wait("a * 2 + 1")
    expect("array([1, 3, 5, 7, 9])" in lines(), "result of a * 2 + 1")
    enter_and_wait("f = linspace(0, 1, 3, dtype=f32)")
    enter_and_wait("f * f")
    expect("array([0.  , 0.25, 1.  ], dtype=float32)" in lines(), "f32 result")


def case_completion():
    enter_and_wait("alpha_long_name = arange(3)")
    typed("alpha_l")
    keys("Tab")
    wait_for("xpr> alpha_long_name")
    typed(" + 1")
    keys("Enter")
    wait_for("array([1, 2, 3])")
    # A common prefix is completed first; a second Tab lists the candidates and redraws the line.
    typed("ex")
    keys("Tab")
    wait_for("xpr> exp", after="array([1, 2, 3])")
    keys("Tab")
    wait_for("exp    exp2   expm1")
    wait_for("xpr> exp", after="expm1")
    keys("C-u")
    # Commands complete at the start of a line (with a space after them).
    typed(":ty")
    keys("Tab")
    wait_for("xpr> :type")
    typed("alpha_long_name")
    keys("Enter")
    wait_for("i64[3]")


def case_history():
    enter_and_wait("h1 = arange(4)")
    enter_and_wait("h1 * 3")
    n = prompt_count()
    keys("Up")
    wait_for("xpr> h1 * 3", after="array([0, 3, 6, 9])")
    keys("Enter")
    deadline = time.time() + 10
    while prompt_count() <= n and time.time() < deadline:
        time.sleep(0.05)
    expect(lines().count("array([0, 3, 6, 9])") == 2, "recalled line ran again")
    # The history file survives the session, and a new session recalls from it.
    keys("C-d")
    wait_for("xpr-exit-status=0", timeout=10)
    hist = os.path.join(STATE, "xpr", "history")
    expect(os.path.exists(hist), f"history file {hist}")
    # The old session is killed only after the new one exists. Killing the server's last
    # session makes the server exit, and a new-session racing that exit fails (CI saw
    # tmux new-session exit 1 here once).
    tmux("rename-session", "-t", "xpr", "xpr-ended")
    start()
    tmux("kill-session", "-t", "xpr-ended")
    keys("Up")
    wait_for("xpr> h1 * 3")


def case_error_caret():
    enter_and_wait("a = zeros(4, dtype=f32)")
    enter_and_wait("b = zeros(3, dtype=f32)")
    enter_and_wait("c = a + b")
    l = lines()
    i = l.index("xpr> c = a + b")
    expect(l[i + 1] == "<repl>:1:7: error: cannot broadcast the operands of '+': f32[4] and f32[3]", l[i + 1])
    expect(l[i + 2] == "  c = a + b", l[i + 2])
    expect(l[i + 3] == "        ^", l[i + 3])
    enter_and_wait("1 +* 2")
    l = lines()
    i = l.index("xpr> 1 +* 2")
    expect(l[i + 1:i + 4] == ["<repl>:1:4: error: expected an expression, found '*'", "  1 +* 2", "     ^"], l[i + 1:i + 4])
    enter_and_wait("a + 1")  # the session goes on
    expect("array([1., 1., 1., 1.], dtype=float32)" in lines(), "session survived")


def case_ctrl_c():
    enter_and_wait("keep = arange(2)")
    typed("this line is abandoned")
    n = prompt_count()
    keys("C-c")
    wait_for("xpr> this line is abandoned^C")
    deadline = time.time() + 5
    while prompt_count() <= n and time.time() < deadline:
        time.sleep(0.05)
    expect(prompt_count() > n, "a fresh prompt after ^C")
    enter_and_wait("keep + 1")
    expect("array([1, 2])" in lines(), "REPL works after ^C")
    # The abandoned line is not in the history: Up recalls the line before it.
    keys("Up")
    wait_for("xpr> keep + 1", after="array([1, 2])")


def case_ctrl_c_eval():
    # Ctrl-C during a long statement abandons it and the REPL stays. The statement must still
    # be running when Ctrl-C comes: on a machine that draws the values faster than the wait, it
    # would already be done, and Ctrl-C would only clear an empty line. So a statement that
    # finished first is tried again twice as long (each under a name of its own).
    n = 150_000_000
    for attempt in range(4):
        name = f"big{attempt}"
        before = prompt_count()
        typed(f"{name} = rand({n}, dtype=f32)")
        keys("Enter")
        time.sleep(0.6)
        if prompt_count() == before:  # no new prompt: still running
            break
        n *= 2
    else:
        fail("every statement finished before Ctrl-C could interrupt it")
    keys("C-c")
    wait_for("interrupted", timeout=30)
    wait_for("xpr>", after="interrupted")
    enter_and_wait(":vars")
    expect(not any(l.startswith(name + " ") for l in lines()),
           "the abandoned assignment did not happen")
    if attempt == 0:
        expect("no variables yet; try  a = rand(1_000_000)" in lines(), "no variable at all")


def case_ctrl_d():
    enter_and_wait("1 + 1")
    keys("C-d")
    wait_for("xpr-exit-status=", timeout=10)
    expect("xpr-exit-status=0" in lines(), "exit status 0 after Ctrl-D")


def case_commands():
    enter_and_wait("x = zeros(10, dtype=f32)")
    enter_and_wait(":type x * 2")
    expect("f32[10]" in lines(), ":type")
    enter_and_wait(":vars")
    expect("x     f32[10]  40 B" in lines(), ":vars")
    enter_and_wait(":emit fused x * 2 + 1")
    expect("} # 1 kernel(s), 0 reduction(s), 0 intermediate buffer(s)" in lines(), ":emit fused")
    enter_and_wait(":time x * 2 + 1")
    expect(any(l.startswith("run ") and "GB/s" in l for l in lines()), ":time")
    enter_and_wait(":target cuda")
    expect(any(l.startswith("<repl>:1:9: error: no CUDA ") or l.startswith("target: cuda:0 (") for l in lines()), ":target cuda")
    typed(":quit")
    keys("Enter")
    wait_for("xpr-exit-status=", timeout=10)
    expect("xpr-exit-status=0" in lines(), "exit status 0 after :quit")


CASES = {name[5:]: f for name, f in globals().items() if name.startswith("case_")}

try:
    start()
    CASES[CASE]()
    print(f"PASS [{CASE}]")
finally:
    subprocess.run([TMUX, "-L", SOCKET, "kill-server"], capture_output=True)
    shutil.rmtree(STATE, ignore_errors=True)
