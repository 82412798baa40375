// tools/xpr/Repl.cpp — the REPL loops over libedit (histedit.h) and over plain streams.
//
// Ctrl-C while editing is an editor key, not a signal: the terminal's ISIG is switched off in
// libedit's edit mode and ^C is bound to a function that abandons the line. While a statement
// runs the terminal is back in normal mode, so Ctrl-C is SIGINT: the handler sets a flag that the
// session polls (the statement is abandoned; a running kernel finishes its pass first), and a
// second Ctrl-C before the first is noticed ends the process the usual way.
#include "tools/xpr/Repl.h"

#include <histedit.h>

#include <fmt/format.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <string>
#include <unistd.h>

#include <sys/ioctl.h>

namespace xpr::tool {

namespace {

struct EditorState {
  Session *session = nullptr;
  bool cancelled = false; // ^C abandoned the line
  std::string prompt;
};

EditorState *state_of(EditLine *el) {
  void *p = nullptr;
  el_get(el, EL_CLIENTDATA, &p);
  return static_cast<EditorState *>(p);
}

const char *prompt_fn(EditLine *el) { return state_of(el)->prompt.c_str(); }

unsigned char on_ctrl_c(EditLine *el, int) {
  state_of(el)->cancelled = true;
  // Show "^C" at the end of the abandoned line, as shells do, and end it the way Enter does (so
  // libedit moves to a fresh line itself); the loop drops the line because of the flag.
  const LineInfo *li = el_line(el);
  el_cursor(el, static_cast<int>(li->lastchar - li->cursor));
  el_insertstr(el, "^C");
  el_push(el, "\n");
  return CC_REFRESH;
}

int terminal_width() {
  struct winsize ws {};
  if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  return 80;
}

unsigned char on_tab(EditLine *el, int) {
  EditorState *st = state_of(el);
  const LineInfo *li = el_line(el);
  const std::string line(li->buffer, static_cast<std::size_t>(li->lastchar - li->buffer));
  const auto cursor = static_cast<std::size_t>(li->cursor - li->buffer);
  const Session::Completion c = st->session->complete(line, cursor);
  if (c.candidates.empty()) return CC_REFRESH_BEEP;
  const std::string word = line.substr(c.start, cursor - c.start);
  std::string common = c.candidates[0];
  for (const auto &s : c.candidates) {
    std::size_t k = 0;
    while (k < common.size() && k < s.size() && common[k] == s[k]) ++k;
    common.resize(k);
  }
  if (c.candidates.size() == 1) {
    std::string rest = common.substr(word.size());
    if (common[0] == ':') rest += ' ';
    if (!rest.empty()) el_insertstr(el, rest.c_str());
    return CC_REFRESH;
  }
  if (common.size() > word.size()) {
    el_insertstr(el, common.substr(word.size()).c_str());
    return CC_REFRESH;
  }
  // Ambiguous: list the candidates in columns under the line, then redraw it.
  std::size_t w = 0;
  for (const auto &s : c.candidates) w = std::max(w, s.size());
  w += 2;
  const std::size_t cols = std::max<std::size_t>(1, static_cast<std::size_t>(terminal_width()) / w);
  std::string out = "\n";
  for (std::size_t i = 0; i < c.candidates.size(); ++i) {
    out += fmt::format("{:<{}}", c.candidates[i], w);
    if ((i + 1) % cols == 0 || i + 1 == c.candidates.size()) {
      while (!out.empty() && out.back() == ' ') out.pop_back();
      out += "\n";
    }
  }
  std::fputs(out.c_str(), stdout);
  std::fflush(stdout);
  return CC_REDISPLAY;
}

void on_sigint(int) {
  if (g_interrupt.load()) {
    // A second Ctrl-C before the first was noticed: stop for real.
    std::signal(SIGINT, SIG_DFL);
    std::raise(SIGINT);
    return;
  }
  g_interrupt.store(true);
  static const char msg[] = "\n(interrupting...)\n";
  [[maybe_unused]] auto r = write(STDERR_FILENO, msg, sizeof msg - 1);
}

} // namespace

std::string history_path() {
  if (const char *x = std::getenv("XDG_STATE_HOME"); x && *x) {
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(x) / "xpr", ec);
    return (std::filesystem::path(x) / "xpr" / "history").string();
  }
  if (const char *h = std::getenv("HOME"); h && *h)
    return (std::filesystem::path(h) / ".xpr_history").string();
  return {};
}

int run_terminal(Session &session, bool color) {
  EditorState st;
  st.session = &session;
  st.prompt = color ? "\1\033[1;32m\1xpr>\1\033[0m\1 " : "xpr> ";

  EditLine *el = el_init("xpr", stdin, stdout, stderr);
  if (!el) {
    std::cerr << "xpr: cannot start the line editor\n";
    return 3;
  }
  History *hist = history_init();
  HistEvent ev;
  history(hist, &ev, H_SETSIZE, 1000);
  history(hist, &ev, H_SETUNIQUE, 1);
  const std::string hpath = history_path();
  if (!hpath.empty()) history(hist, &ev, H_LOAD, hpath.c_str());

  el_set(el, EL_CLIENTDATA, &st);
  el_set(el, EL_EDITOR, "emacs");
  el_set(el, EL_SIGNAL, 1);
  if (color) el_set(el, EL_PROMPT_ESC, prompt_fn, '\1');
  else el_set(el, EL_PROMPT, prompt_fn);
  el_set(el, EL_HIST, history, hist);
  el_set(el, EL_ADDFN, "xpr-complete", "complete a name or command", on_tab);
  el_set(el, EL_BIND, "^I", "xpr-complete", nullptr);
  // ^C edits instead of signalling: no ISIG while editing.
  el_set(el, EL_SETTY, "-d", "-isig", nullptr);
  el_set(el, EL_ADDFN, "xpr-cancel", "abandon the line", on_ctrl_c);
  el_set(el, EL_BIND, "^C", "xpr-cancel", nullptr);
  el_source(el, nullptr); // ~/.editrc, as every libedit program

  struct sigaction sa {};
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);

  std::cout << fmt::format("xpr {} — array expressions, compiled for this CPU ({} threads). "
                           ":help for help, Ctrl-D to leave.\n",
                           "0.1.0", session.context().threads());
  std::cout.flush();

  for (;;) {
    st.cancelled = false;
    int count = 0;
    const char *raw = el_gets(el, &count);
    if (st.cancelled) continue; // ^C: the line is dropped, the prompt comes back
    if (!raw || count <= 0) {   // Ctrl-D on an empty line, or end of input
      std::cout << "\n";
      break;
    }
    std::string line(raw, static_cast<std::size_t>(count));
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
    if (line.find_first_not_of(" \t") != std::string::npos) {
      history(hist, &ev, H_ENTER, line.c_str());
      if (!hpath.empty()) history(hist, &ev, H_SAVE, hpath.c_str());
    }
    const Session::Status s = session.execute(line);
    g_interrupt.store(false);
    std::cout.flush();
    if (s == Session::Status::Quit) break;
  }
  el_end(el);
  history_end(hist);
  std::signal(SIGINT, SIG_DFL);
  return 0;
}

int run_stream(Session &session, std::istream &in, std::ostream &out, bool echo) {
  int rc = 0;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (echo) out << "xpr> " << line << "\n" << std::flush;
    const Session::Status s = session.execute(line);
    out.flush();
    if (s == Session::Status::Quit) break;
    if (s == Session::Status::UserError || s == Session::Status::Interrupted) rc = std::max(rc, 1);
    if (s == Session::Status::InternalError) rc = 3;
  }
  return rc;
}

} // namespace xpr::tool
