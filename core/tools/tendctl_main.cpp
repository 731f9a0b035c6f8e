// SPDX-License-Identifier: MIT
// tendctl: controls tend the way initctl controlled Upstart, with the same output. It finds its
// tend through $TEND_SESSION, else $XDG_RUNTIME_DIR/tend/control (or --socket PATH).
// `check-config` asks the running tend, else works offline; `log` reads the job's log file itself
// once tend has said where it is. `--json` prints the reply's data (docs/control.md) instead.
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "control/protocol.hpp"
#include "tendctl_check.hpp"

namespace {

using json = nlohmann::json;

constexpr const char* kUsage =
    "usage: tendctl [--socket PATH] [--json] COMMAND [OPTIONS] [ARGS]\n"
    "\n"
    "Jobs\n"
    "  start [-n] JOB [KEY=VALUE...]    start a job; wait until it runs (or, a task, ends)\n"
    "  stop [-n] JOB [KEY=VALUE...]     stop a job instance and wait until it has stopped\n"
    "  stop --all [-n]                  stop every job (with progress on a terminal)\n"
    "  restart [-n] [--reload] JOB [KEY=VALUE...]\n"
    "                                   stop and start a running instance (--reload: on\n"
    "                                   the job file's current definition)\n"
    "  reload JOB [KEY=VALUE...]        send the job's reload signal to its main process\n"
    "  status JOB [KEY=VALUE...]        print a job's goal, state and processes\n"
    "  list                             print the status of every job\n"
    "  usage JOB                        print the job's usage text\n"
    "  explain JOB [KEY=VALUE...]       say why a job is or is not running\n"
    "  log [-f] [-n N] JOB [KEY=VALUE...]  print (or follow) a job's log\n"
    "\n"
    "Events\n"
    "  emit [-n] EVENT [KEY=VALUE...]   emit an event; wait for the jobs it starts or stops\n"
    "  monitor                          print events and job changes as they happen\n"
    "\n"
    "Configuration and tend itself\n"
    "  reload-configuration [--dry-run] re-read the job files; print the plan (--dry-run:\n"
    "                                   print it and change nothing)\n"
    "  show-config [-e] [JOB]           print jobs' emits, start on and stop on\n"
    "  check-config [-i LIST] [-w] [--offline] [PATH...]\n"
    "                                   check job files (through tend, if it runs)\n"
    "  graph                            the job/event graph in dot (--json: as JSON)\n"
    "  log-priority [PRIORITY]          print or set tend's log level\n"
    "  plugins                          list plugins, their state and why\n"
    "  version                          print the version of the running tend\n"
    "\n"
    "  -n, --no-wait                    return as soon as the request is accepted\n"
    "  --json                           print the answer as JSON (fields: docs/control.md)\n";

struct Cli {
    std::string program = "tendctl";
    std::string socket_path;
    bool json = false;
};

[[noreturn]] void fail(const Cli& cli, const std::string& message, int status = 1,
                       const std::string& code = "failed") {
    if (cli.json) {
        std::printf("%s\n", json{{"ok", false}, {"code", code}, {"error", message}}.dump().c_str());
    }
    std::fprintf(stderr, "%s: %s\n", cli.program.c_str(), message.c_str());
    std::exit(status);
}

[[noreturn]] void usageError(const Cli& cli, const std::string& message) {
    std::fprintf(stderr, "%s: %s\nTry `%s --help' for more information.\n", cli.program.c_str(),
                 message.c_str(), cli.program.c_str());
    std::exit(2);
}

// A connected socket, or -1 with errno set.
int connectTo(const std::string& path) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof addr.sun_path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        const int error = errno;
        ::close(fd);
        errno = error;
        return -1;
    }
    return fd;
}

// One connection to tend: a request goes out, then reply lines come back.
class Connection {
  public:
    explicit Connection(const Cli& cli) : cli_(cli) {
        if (cli.socket_path.empty()) {
            fail(cli,
                 "cannot find tend: neither TEND_SESSION nor XDG_RUNTIME_DIR is set; start "
                 "tend, or pass --socket PATH",
                 1, "unreachable");
        }
        fd_ = connectTo(cli.socket_path);
        if (fd_ < 0) {
            fail(cli,
                 "cannot reach tend at " + cli.socket_path + ": " + std::strerror(errno) + "\n" +
                     cli.program +
                     ": is tend running? Start it with 'tend', or point TEND_SESSION at "
                     "its control socket",
                 1, "unreachable");
        }
    }
    // For commands that can do without tend: takes a socket connectTo gave.
    Connection(const Cli& cli, int fd) : cli_(cli), fd_(fd) {}
    ~Connection() { ::close(fd_); }

    void send(const json& message) {
        const std::string text = message.dump() + "\n";
        std::string_view pending = text;
        while (!pending.empty()) {
            const ssize_t n = ::send(fd_, pending.data(), pending.size(), MSG_NOSIGNAL);
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n <= 0) {
                fail(cli_, std::string("lost the connection to tend: ") + std::strerror(errno));
            }
            pending.remove_prefix(static_cast<std::size_t>(n));
        }
    }

    // The next line from tend, or nothing once tend has closed the connection.
    std::optional<json> next() {
        for (;;) {
            if (const auto end = buffer_.find('\n'); end != std::string::npos) {
                const std::string line = buffer_.substr(0, end);
                buffer_.erase(0, end + 1);
                json message = json::parse(line, nullptr, false);
                if (message.is_discarded() || !message.is_object()) {
                    fail(cli_, "tend sent a reply that is not JSON");
                }
                return message;
            }
            char chunk[65536];
            const ssize_t n = ::read(fd_, chunk, sizeof chunk);
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n <= 0) {
                return std::nullopt;
            }
            buffer_.append(chunk, static_cast<std::size_t>(n));
        }
    }

  private:
    const Cli& cli_;
    int fd_ = -1;
    std::string buffer_;
};

// A one-line progress meter on a terminal; nothing at all when stderr is not one.
class Progress {
  public:
    Progress() : tty_(::isatty(STDERR_FILENO) == 1) {}
    ~Progress() { clear(); }
    bool wanted() const { return tty_; }
    void show(const json& progress) {
        if (!tty_) {
            return;
        }
        const std::string line = progress.value("what", std::string("working")) + " " +
                                 std::to_string(progress.value("done", 0)) + "/" +
                                 std::to_string(progress.value("total", 0));
        std::fprintf(stderr, "\r\033[K%s", line.c_str());
        std::fflush(stderr);
        shown_ = true;
    }
    void clear() {
        if (shown_) {
            std::fputs("\r\033[K", stderr);
            std::fflush(stderr);
            shown_ = false;
        }
    }

  private:
    bool tty_;
    bool shown_ = false;
};

// Sends one request and prints the final reply; progress lines on the way go to the meter.
int requestAndPrint(const Cli& cli, const std::string& command, std::vector<std::string> args,
                    bool wait, json options) {
    Progress progress;
    if (progress.wanted() && !cli.json) {
        options["progress"] = true;
    }
    if (!cli.json) {
        options["data"] = false;  // only the text is printed: a smaller reply, nothing to parse
    }
    Connection connection(cli);
    connection.send({{"protocol", tend::control::kProtocolVersion},
                     {"command", command},
                     {"args", std::move(args)},
                     {"wait", wait},
                     {"options", std::move(options)}});
    for (;;) {
        const auto message = connection.next();
        if (!message) {
            progress.clear();
            fail(cli, "tend closed the connection without a reply");
        }
        if (const auto it = message->find("progress"); it != message->end()) {
            progress.show(*it);
            continue;
        }
        progress.clear();
        if (message->value("ok", false)) {
            if (cli.json) {
                std::printf("%s\n", message->value("data", json::object()).dump().c_str());
            } else if (const std::string output = message->value("output", ""); !output.empty()) {
                std::printf("%s\n", output.c_str());
            }
            return 0;
        }
        const std::string error = message->value("error", "request failed");
        if (cli.json) {
            json out{{"ok", false}, {"code", message->value("code", "failed")}, {"error", error}};
            if (const auto data = message->find("data"); data != message->end()) {
                out["data"] = *data;
            }
            std::printf("%s\n", out.dump().c_str());
        }
        if (message->value("code", "") == "unknown-command") {
            usageError(cli, error);
        }
        std::fprintf(stderr, "%s: %s\n", cli.program.c_str(), error.c_str());
        return 1;
    }
}

// The answer to a request that must succeed for the command to go on (`log`).
json requestData(const Cli& cli, const std::string& command, std::vector<std::string> args) {
    Connection connection(cli);
    connection.send({{"protocol", tend::control::kProtocolVersion},
                     {"command", command},
                     {"args", std::move(args)},
                     {"wait", true}});
    const auto reply = connection.next();
    if (!reply) {
        fail(cli, "tend closed the connection without a reply");
    }
    if (!reply->value("ok", false)) {
        fail(cli, reply->value("error", "request failed"), 1, reply->value("code", "failed"));
    }
    return reply->value("data", json::object());
}

std::string describeMonitor(const json& body) {
    const std::string type = body.value("type", "");
    if (type == "event") {
        std::string line = "event " + body.value("event", "");
        for (const auto& entry : body.value("env", json::array())) {
            line += ' ';
            line += entry.get<std::string>();
        }
        return line;
    }
    std::string name = body.value("job", "");
    if (const std::string instance = body.value("instance", ""); !instance.empty()) {
        name += " (" + instance + ")";
    }
    if (type == "goal") {
        return name + " goal " + body.value("from", "") + " -> " + body.value("to", "");
    }
    return name + " state " + body.value("from", "") + " -> " + body.value("to", "");
}

int monitor(const Cli& cli) {
    Connection connection(cli);
    connection.send({{"protocol", tend::control::kProtocolVersion},
                     {"command", "monitor"},
                     {"args", json::array()},
                     {"wait", true}});
    const auto first = connection.next();
    if (!first) {
        fail(cli, "tend closed the connection without a reply");
    }
    if (!first->value("ok", false)) {
        fail(cli, first->value("error", "request failed"), 1, first->value("code", "failed"));
    }
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    while (const auto message = connection.next()) {
        const auto body = message->find("monitor");
        if (body == message->end()) {
            continue;
        }
        const std::string line = cli.json ? body->dump() : describeMonitor(*body);
        std::printf("%s\n", line.c_str());
    }
    // tend went away: the session ended.
    return 0;
}

// Prints the last `lines` lines of `path` (all when negative), then, with `follow`, what is
// appended, across rotation (a new file at the path) and truncation.
int showLog(const Cli& cli, const std::string& path, long lines, bool follow) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 && !follow) {
        fail(cli, "no log at " + path + ": " + std::strerror(errno));
    }
    const auto reopen = [&] {
        if (fd >= 0) {
            ::close(fd);
        }
        fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    };
    std::string text;
    if (fd >= 0) {
        char chunk[65536];
        ssize_t n = 0;
        while ((n = ::read(fd, chunk, sizeof chunk)) > 0) {
            text.append(chunk, static_cast<std::size_t>(n));
        }
    }
    std::size_t start = 0;
    if (lines >= 0) {
        start = text.size();
        long seen = 0;
        std::size_t pos = text.size();
        if (pos > 0 && text[pos - 1] == '\n') {
            --pos;
        }
        while (pos > 0) {
            if (text[pos - 1] == '\n' && ++seen == lines) {
                break;
            }
            --pos;
        }
        start = lines == 0 ? text.size() : pos;
    }
    std::fwrite(text.data() + start, 1, text.size() - start, stdout);
    std::fflush(stdout);
    if (!follow) {
        if (fd >= 0) {
            ::close(fd);
        }
        return 0;
    }
    struct stat seen {};
    if (fd >= 0) {
        ::fstat(fd, &seen);
    }
    off_t offset = static_cast<off_t>(text.size());
    for (;;) {
        ::poll(nullptr, 0, 200);
        struct stat now {};
        if (::stat(path.c_str(), &now) != 0) {
            continue;  // rotated away; a new file comes when the job writes again
        }
        if (fd < 0 || now.st_ino != seen.st_ino || now.st_dev != seen.st_dev ||
            now.st_size < offset) {
            if (fd >= 0 && (now.st_ino != seen.st_ino || now.st_dev != seen.st_dev)) {
                // Rotated: what was written to the old file before the switch comes first.
                char rest[65536];
                ssize_t got = 0;
                while ((got = ::pread(fd, rest, sizeof rest, offset)) > 0) {
                    std::fwrite(rest, 1, static_cast<std::size_t>(got), stdout);
                    offset += got;
                }
            }
            reopen();
            if (fd < 0) {
                continue;
            }
            ::fstat(fd, &seen);
            offset = 0;
        }
        char chunk[65536];
        ssize_t n = 0;
        while ((n = ::pread(fd, chunk, sizeof chunk, offset)) > 0) {
            std::fwrite(chunk, 1, static_cast<std::size_t>(n), stdout);
            offset += n;
        }
        std::fflush(stdout);
    }
}

struct Parsed {
    std::vector<std::string> positional;
    bool wait = true;
    json options = json::object();
};

// Splits a command's own options from its arguments. `allowed` lists the flags it takes;
// `-n` means --no-wait for every command that waits, and --lines for `log`.
Parsed parseOptions(const Cli& cli, const std::string& command, std::vector<std::string> args) {
    Parsed parsed;
    static constexpr std::string_view kBuiltin[] = {
        "start",   "stop",         "restart",     "reload",
        "status",  "list",         "usage",       "emit",
        "version", "log-priority", "show-config", "log",
        "graph",   "monitor",      "explain",     "reload-configuration",
        "plugins"};
    if (std::find(std::begin(kBuiltin), std::end(kBuiltin), command) == std::end(kBuiltin)) {
        parsed.positional = std::move(args);  // a plugin's command: its options are its own
        return parsed;
    }
    const bool waits =
        command == "start" || command == "stop" || command == "restart" || command == "emit";
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& arg = args[i];
        if (arg == "--") {
            parsed.positional.insert(parsed.positional.end(), args.begin() + i + 1, args.end());
            break;
        }
        if (!arg.starts_with("-") || arg.size() == 1) {
            parsed.positional.push_back(arg);
            continue;
        }
        if (arg == "--help" || arg == "-h") {
            std::fputs(kUsage, stdout);
            std::exit(0);
        }
        if (command == "log" && (arg == "-n" || arg == "--lines")) {
            if (i + 1 >= args.size()) {
                usageError(cli, "log: " + arg + " needs a number");
            }
            char* end = nullptr;
            const long lines = std::strtol(args[i + 1].c_str(), &end, 10);
            if (!end || *end || lines < 0) {
                usageError(cli, "log: not a line count: '" + args[i + 1] + "'");
            }
            parsed.options["lines"] = lines;
            ++i;
        } else if (command == "log" && (arg == "-f" || arg == "--follow")) {
            parsed.options["follow"] = true;
        } else if (waits && (arg == "-n" || arg == "--no-wait")) {
            parsed.wait = false;
        } else if (command == "stop" && arg == "--all") {
            parsed.options["all"] = true;
        } else if (command == "restart" && arg == "--reload") {
            parsed.options["reload"] = true;
        } else if (command == "reload-configuration" && (arg == "--dry-run" || arg == "-d")) {
            parsed.options["dry_run"] = true;
        } else if (command == "show-config" && (arg == "-e" || arg == "--enumerate")) {
            parsed.options["enumerate"] = true;
        } else {
            usageError(cli, (cli.program == command ? "" : command + ": ") + "unknown option '" +
                                arg + "'");
        }
    }
    return parsed;
}

int run(Cli& cli, const std::string& command, std::vector<std::string> args) {
    Parsed parsed = parseOptions(cli, command, std::move(args));
    auto& positional = parsed.positional;
    const bool job_command = command == "start" || command == "stop" || command == "restart" ||
                             command == "reload" || command == "status";
    const bool stop_all = parsed.options.value("all", false);
    if (job_command && !stop_all &&
        (positional.empty() || positional.front().find('=') != std::string::npos)) {
        // Inside a job, a bare `stop` or `start` means "this job" (Upstart's pre-start idiom).
        const char* job = std::getenv("UPSTART_JOB");
        if (job && *job && command != "status") {
            positional.insert(positional.begin(), job);
            if (const char* instance = std::getenv("UPSTART_INSTANCE"); instance && *instance) {
                parsed.options["instance"] = instance;  // this instance, not the template's
            }
            parsed.wait = false;  // the job cannot wait for its own transition
        } else {
            usageError(cli, "missing job name");
        }
    }
    if (stop_all && !positional.empty()) {
        usageError(cli, "stop --all takes no job name");
    }
    if ((command == "usage" || command == "explain" || command == "log") && positional.empty()) {
        usageError(cli, "missing job name");
    }
    if (command == "emit" && positional.empty()) {
        usageError(cli, "missing event name");
    }
    if (command == "monitor") {
        return monitor(cli);
    }
    if (command == "log") {
        const json data = requestData(cli, "log", positional);
        if (!data.value("console_log", true)) {
            fail(cli,
                 positional.front() +
                     " does not log to a file: its console is not `log` (see its job file)",
                 1, "not-logged");
        }
        const long lines = parsed.options.value("lines", -1L);
        return showLog(cli, data.value("path", ""), lines, parsed.options.value("follow", false));
    }
    return requestAndPrint(cli, command, std::move(positional), parsed.wait,
                           std::move(parsed.options));
}

}  // namespace

int main(int argc, char** argv) {
    Cli cli;
    // Installed as `start`, `stop`, ... it runs that command, as Upstart's links did.
    cli.program = std::filesystem::path(argv[0]).filename().string();
    cli.socket_path = tend::control::defaultSocketPath();
    std::vector<std::string> args(argv + 1, argv + argc);
    // Global options come before the command; --json may also come anywhere after it.
    std::vector<std::string> rest;
    bool before_command = true;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& arg = args[i];
        if (arg == "--json") {
            cli.json = true;
        } else if (before_command && arg == "--socket") {
            if (i + 1 >= args.size()) {
                usageError(cli, "--socket needs a path");
            }
            cli.socket_path = args[++i];
        } else if (before_command && arg.starts_with("--socket=")) {
            cli.socket_path = arg.substr(9);
        } else {
            before_command = before_command && arg.starts_with("-") && arg != "--help" &&
                             arg != "-h" && arg != "--version";
            if (!arg.starts_with("-")) {
                before_command = false;
            }
            rest.push_back(arg);
        }
    }
    args = std::move(rest);
    for (const char* shortcut : {"start", "stop", "restart", "reload", "status"}) {
        if (cli.program == shortcut) {
            return run(cli, cli.program, std::move(args));
        }
    }
    cli.program = "tendctl";
    if (args.empty()) {
        std::fputs(kUsage, stderr);
        return 2;
    }
    const std::string command = args.front();
    args.erase(args.begin());
    if (command == "--help" || command == "-h" || command == "help") {
        std::fputs(kUsage, stdout);
        return 0;
    }
    if (command == "--version") {
        std::printf("tendctl %s\n", TEND_VERSION);
        return 0;
    }
    if (command == "check-config") {
        if (cli.json) {
            args.insert(args.begin(), "--json");
        }
        std::vector<char*> raw;
        for (auto& arg : args) {
            raw.push_back(arg.data());
        }
        const auto ask = [&cli](const json& request) -> std::optional<json> {
            const int fd = cli.socket_path.empty() ? -1 : connectTo(cli.socket_path);
            if (fd < 0) {
                return std::nullopt;
            }
            Connection connection(cli, fd);
            connection.send(request);
            return connection.next();
        };
        return tend::ctl::checkConfig(static_cast<int>(raw.size()), raw.data(), ask);
    }
    static const char* const kRemote[] = {
        "start",   "stop",         "restart",     "reload",
        "status",  "list",         "usage",       "emit",
        "version", "log-priority", "show-config", "log",
        "graph",   "monitor",      "explain",     "reload-configuration"};
    for (const char* remote : kRemote) {
        if (command == remote) {
            return run(cli, command, std::move(args));
        }
    }
    if (command.starts_with("-")) {
        usageError(cli, "unknown option '" + command + "'");
    }
    // Anything else may be a plugin's command (list-env, ...): tend knows.
    return run(cli, command, std::move(args));
}
