// tools/xpr/Repl.h — the two REPL loops: an interactive one on a terminal (libedit: line editing,
// history file, Tab completion, Ctrl-C) and a quiet one that reads statements from a stream.
#pragma once

#include "tools/xpr/Session.h"

#include <iosfwd>
#include <string>

namespace xpr::tool {

/// The history file: $XDG_STATE_HOME/xpr/history when XDG_STATE_HOME is set, else
/// ~/.xpr_history; empty when neither HOME nor XDG_STATE_HOME is set (no history is kept).
std::string history_path();

/// The interactive REPL on the controlling terminal (stdin and stdout must be terminals).
/// Returns the process exit code: 0 after :quit or Ctrl-D.
int run_terminal(Session &session, bool color);

/// Reads statements from `in`, one per line, and runs them with no prompt. With `echo`, each line
/// is first printed after "xpr> " (for transcripts and demos). Stops at end of input or :quit.
/// Returns 0 when every line succeeded, 1 if any had a user error, 3 if any hit an internal error.
int run_stream(Session &session, std::istream &in, std::ostream &out, bool echo);

} // namespace xpr::tool
