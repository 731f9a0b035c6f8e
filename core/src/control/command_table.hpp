// SPDX-License-Identifier: MIT
// The control commands tend serves itself, in one table. tendctl's usage text, its option
// parsing and its choice of how to carry a command out come from it; tests hold the server's
// handlers and both completion scripts to it (every name here has a handler, no other does). A
// plugin's commands are not in it: tendctl passes any other name through, and tend asks its
// plugins.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace tend::control {

enum class CommandGroup : std::uint8_t { Jobs, Events, Configuration };

// What the command's first argument is: tendctl says "missing job name" or "missing event
// name" by it (the other kinds document the table).
enum class CommandArgument : std::uint8_t {
    None,
    OwnJob,       // a job; inside a job, a bare start/stop/restart/reload means that job
    JobFirst,     // a job, required, that a KEY=VALUE cannot stand for (status)
    Job,          // a job, required
    OptionalJob,  // a job, or every job
    Event,        // an event name, required
    Paths,        // job files or directories
    Priority,     // a log priority, optional
};

// How tendctl carries the command out.
enum class ClientMode : std::uint8_t {
    Reply,    // one request, one reply printed (with progress on a terminal)
    Stream,   // `monitor`: lines until tend goes away
    LogFile,  // `log`: asks tend where the log is, then reads it itself
    Checker,  // `check-config`: asks tend if it runs, else checks offline
};

// One option as tendctl spells it and as the request carries it.
struct OptionSpec {
    std::string_view short_name;  // "-f", or empty
    std::string_view long_name;   // "--follow"
    std::string_view key;         // the request's options key; empty for --no-wait (`wait`)
    std::string_view value;       // what follows it: "N" (a count), "LIST"; empty for a flag
};

struct CommandSpec {
    std::string_view name;
    CommandGroup group;
    // Its lines of tendctl's usage text, each starting "  NAME ...".
    std::string_view usage;
    CommandArgument argument = CommandArgument::None;
    ClientMode mode = ClientMode::Reply;
    std::span<const OptionSpec> options;
};

std::span<const CommandSpec> commandTable();
const CommandSpec* findCommand(std::string_view name);
// tendctl's whole usage text.
std::string_view usageText();

}  // namespace tend::control
