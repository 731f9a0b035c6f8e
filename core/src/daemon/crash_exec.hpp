// SPDX-License-Identifier: MIT
// A plugin that crashes. Plugins run inside tend, so a fatal signal in a plugin's code (SIGSEGV,
// SIGBUS, SIGILL, SIGFPE, SIGABRT) would take tend, and with it the session's supervision,
// down. While one is armed, such a signal on tend's loop thread during a call into a plugin
// makes tend replace itself as it does after a hung plugin: the same process execs tend again
// without saved state, telling it not to load that plugin (`--refuse-plugin NAME=it crashed
// ...`), and the next tend adopts the running jobs and their output pipes. What the crashed
// plugin left half-done is gone with the old image; what the log router had read from the pipes
// and not yet written is lost.
//
// Any other fatal signal (tend's own code, or a plugin's own thread, or no plugin call under
// way) takes tend down as before; its next start ends what it left behind.
//
// The handler runs on an alternate stack (a stack overflow is a SIGSEGV too) and does only what
// a signal handler may: the command line is built beforehand, and descriptors are found with
// getdents64 on /proc/self/fd.
#pragma once

#include "daemon/reexec.hpp"

namespace tend::plugin {
class PluginManager;
}

namespace tend::daemon {

class CrashExec {
  public:
    // Arms the handlers, on tend's loop thread (the thread whose plugin calls it covers).
    CrashExec(const HungTendExec& exec, const plugin::PluginManager& plugins);
    // Gives the signals their default actions back.
    ~CrashExec();
    CrashExec(const CrashExec&) = delete;
    CrashExec& operator=(const CrashExec&) = delete;
};

}  // namespace tend::daemon
