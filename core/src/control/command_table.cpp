// SPDX-License-Identifier: MIT
#include "control/command_table.hpp"

#include <algorithm>
#include <array>
#include <string>

namespace tend::control {

namespace {

constexpr OptionSpec kNoWait{"-n", "--no-wait", "", ""};

constexpr std::array kStartOptions{kNoWait};
constexpr std::array kStopOptions{kNoWait, OptionSpec{"", "--all", "all", ""}};
constexpr std::array kRestartOptions{kNoWait, OptionSpec{"", "--reload", "adopt", ""}};
constexpr std::array kEmitOptions{kNoWait};
constexpr std::array kLogOptions{OptionSpec{"-f", "--follow", "follow", ""},
                                 OptionSpec{"-n", "--lines", "lines", "N"}};
constexpr std::array kReloadConfigurationOptions{OptionSpec{"-d", "--dry-run", "dry_run", ""}};
constexpr std::array kReexecOptions{OptionSpec{"", "--binary", "binary", "PATH"}};
constexpr std::array kShowConfigOptions{OptionSpec{"-e", "--enumerate", "enumerate", ""}};
constexpr std::array kCheckConfigOptions{
    OptionSpec{"-i", "--ignore-events", "ignore-events", "LIST"},
    OptionSpec{"-j", "--provided-jobs", "provided-jobs", "LIST"},
    OptionSpec{"-w", "--warn", "warn", ""}, OptionSpec{"", "--offline", "", ""}};

using enum CommandGroup;
using enum CommandArgument;

// In the order of tendctl's usage text.
constexpr std::array<CommandSpec, 19> kCommands{{
    {"start", Jobs,
     "  start [-n] JOB [KEY=VALUE...]    start a job; wait until it runs (or, a task, ends)\n",
     OwnJob, ClientMode::Reply, kStartOptions},
    {"stop", Jobs,
     "  stop [-n] JOB [KEY=VALUE...]     stop a job instance and wait until it has stopped\n"
     "  stop --all [-n]                  stop every job (with progress on a terminal)\n",
     OwnJob, ClientMode::Reply, kStopOptions},
    {"restart", Jobs,
     "  restart [-n] [--reload] JOB [KEY=VALUE...]\n"
     "                                   stop and start a running instance (--reload: on\n"
     "                                   the job file's current definition)\n",
     OwnJob, ClientMode::Reply, kRestartOptions},
    {"reload",
     Jobs,
     "  reload JOB [KEY=VALUE...]        send the job's reload signal to its main process\n",
     OwnJob,
     ClientMode::Reply,
     {}},
    {"status",
     Jobs,
     "  status JOB [KEY=VALUE...]        print a job's goal, state and processes\n",
     JobFirst,
     ClientMode::Reply,
     {}},
    {"list",
     Jobs,
     "  list                             print the status of every job\n",
     None,
     ClientMode::Reply,
     {}},
    {"usage",
     Jobs,
     "  usage JOB                        print the job's usage text\n",
     Job,
     ClientMode::Reply,
     {}},
    {"explain",
     Jobs,
     "  explain JOB [KEY=VALUE...]       say why a job is or is not running\n",
     Job,
     ClientMode::Reply,
     {}},
    {"log", Jobs,
     "  log [-f] [-n N] JOB [KEY=VALUE...]  print a job's log (-n: its last N lines)\n"
     "                                   -f: its last 10 (or N) lines, then what it writes\n",
     Job, ClientMode::LogFile, kLogOptions},
    {"emit", Events,
     "  emit [-n] EVENT [KEY=VALUE...]   emit an event; wait for the jobs it starts or stops\n",
     Event, ClientMode::Reply, kEmitOptions},
    {"monitor",
     Events,
     "  monitor                          print events and job changes as they happen\n",
     None,
     ClientMode::Stream,
     {}},
    {"reload-configuration", Configuration,
     "  reload-configuration [--dry-run] re-read the job files; print the plan (--dry-run:\n"
     "                                   print it and change nothing)\n",
     None, ClientMode::Reply, kReloadConfigurationOptions},
    {"show-config", Configuration,
     "  show-config [-e] [JOB]           print jobs' emits, start on and stop on\n", OptionalJob,
     ClientMode::Reply, kShowConfigOptions},
    {"check-config", Configuration,
     "  check-config [-i LIST] [-j LIST] [-w] [--offline] [PATH...]\n"
     "                                   check job files (through tend, if it runs)\n",
     Paths, ClientMode::Checker, kCheckConfigOptions},
    {"graph",
     Configuration,
     "  graph                            the job/event graph in dot (--json: as JSON)\n",
     None,
     ClientMode::Reply,
     {}},
    {"log-priority",
     Configuration,
     "  log-priority [PRIORITY]          print or set tend's log level\n",
     Priority,
     ClientMode::Reply,
     {}},
    {"plugins",
     Configuration,
     "  plugins                          list plugins, their state and why\n",
     None,
     ClientMode::Reply,
     {}},
    {"reexec", Configuration,
     "  reexec [--binary PATH]           replace tend with its binary on disk (or PATH); the\n"
     "                                   jobs run on, with their pids, state and logs\n",
     None, ClientMode::Reply, kReexecOptions},
    {"version",
     Configuration,
     "  version                          print the version of the running tend\n",
     None,
     ClientMode::Reply,
     {}},
}};

std::string buildUsage() {
    std::string text = "usage: tendctl [--socket PATH] [--json] COMMAND [OPTIONS] [ARGS]\n";
    constexpr std::pair<CommandGroup, const char*> kHeadings[] = {
        {Jobs, "Jobs"}, {Events, "Events"}, {Configuration, "Configuration and tend itself"}};
    for (const auto& [group, heading] : kHeadings) {
        text += "\n";
        text += heading;
        text += "\n";
        for (const CommandSpec& command : kCommands) {
            if (command.group == group) {
                text += command.usage;
            }
        }
    }
    text +=
        "\n"
        "  -n, --no-wait                    return as soon as the request is accepted\n"
        "  --json                           print the answer as JSON (fields: docs/control.md)\n";
    return text;
}

}  // namespace

std::span<const CommandSpec> commandTable() {
    return kCommands;
}

const CommandSpec* findCommand(std::string_view name) {
    const auto it =
        std::find_if(kCommands.begin(), kCommands.end(),
                     [name](const CommandSpec& command) { return command.name == name; });
    return it == kCommands.end() ? nullptr : &*it;
}

std::string_view usageText() {
    static const std::string text = buildUsage();
    return text;
}

}  // namespace tend::control
