// SPDX-License-Identifier: MIT
// tendctl: controls tend the way initctl controlled Upstart, with the same output. It finds its
// tend through $TEND_SESSION, else $XDG_RUNTIME_DIR/tend/control (or --socket PATH).
// `check-config` asks the running tend, else works offline; `log` reads the job's log file itself
// once tend has said where it is. `--json` prints the reply's data (docs/control.md) instead.
#include <sys/socket.h>
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

#include "control/command_table.hpp"
#include "control/protocol.hpp"
#include "tendctl_check.hpp"
#include "tendctl_log.hpp"

namespace {

using json = nlohmann::json;
using tend::control::ClientMode;
using tend::control::CommandArgument;
using tend::control::CommandSpec;

// How many lines `log -f` shows before it follows, unless -n says otherwise.
constexpr long kFollowLines = 10;

void printUsage(std::FILE* to) {
    const std::string_view text = tend::control::usageText();
    std::fwrite(text.data(), 1, text.size(), to);
}

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

// Sends a request whose first reply must be a success for the command to go on (`log`,
// `monitor`), and returns that reply's data; a failure ends tendctl with tend's error.
json requestOk(const Cli& cli, Connection& connection, const std::string& command,
               std::vector<std::string> args) {
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
    requestOk(cli, connection, "monitor", {});
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    while (const auto message = connection.next()) {
        const auto body = message->find("monitor");
        if (body == message->end()) {
            continue;
        }
        if (body->value("type", "") == "exit") {
            // tend said so before it went: every job has stopped and nothing is left to show.
            std::printf("%s\n", cli.json ? body->dump().c_str() : "tend exited; the session ended");
            return 0;
        }
        const std::string line = cli.json ? body->dump() : describeMonitor(*body);
        std::printf("%s\n", line.c_str());
    }
    fail(cli, "lost the connection to tend before the session ended (did tend crash?)", 1,
         "unreachable");
}

struct Parsed {
    std::vector<std::string> positional;
    bool wait = true;
    json options = json::object();
};

// Splits a command's own options from its arguments, as the command table lists them. A
// plugin's command (no `spec`) keeps its options: they are its own.
Parsed parseOptions(const Cli& cli, const CommandSpec* spec, std::vector<std::string> args) {
    Parsed parsed;
    if (!spec) {
        parsed.positional = std::move(args);
        return parsed;
    }
    const std::string command(spec->name);
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
            printUsage(stdout);
            std::exit(0);
        }
        const auto option =
            std::find_if(spec->options.begin(), spec->options.end(), [&](const auto& o) {
                return arg == o.long_name || (!o.short_name.empty() && arg == o.short_name);
            });
        if (option == spec->options.end()) {
            usageError(cli, (cli.program == command ? "" : command + ": ") + "unknown option '" +
                                arg + "'");
        }
        if (option->key.empty()) {
            parsed.wait = false;  // -n, --no-wait
        } else if (option->value == "N") {
            if (i + 1 >= args.size()) {
                usageError(cli, command + ": " + arg + " needs a number");
            }
            char* end = nullptr;
            const long count = std::strtol(args[i + 1].c_str(), &end, 10);
            if (!end || *end || count < 0) {
                usageError(cli, command + ": not a line count: '" + args[i + 1] + "'");
            }
            parsed.options[std::string(option->key)] = count;
            ++i;
        } else if (!option->value.empty()) {
            if (i + 1 >= args.size()) {
                usageError(cli, command + ": " + arg + " needs a " + std::string(option->value));
            }
            std::string value = args[++i];
            if (option->value == "PATH") {
                value = std::filesystem::absolute(value).lexically_normal().string();
            }
            parsed.options[std::string(option->key)] = value;
        } else {
            parsed.options[std::string(option->key)] = true;
        }
    }
    return parsed;
}

int run(Cli& cli, const std::string& command, std::vector<std::string> args) {
    const CommandSpec* spec = tend::control::findCommand(command);
    Parsed parsed = parseOptions(cli, spec, std::move(args));
    auto& positional = parsed.positional;
    if (!spec) {
        // A plugin's command learns which job (if any) runs it: initctl's env commands act on
        // that instance's table unless told --global.
        // TEND_* first: when both are set, they name the same job.
        for (const auto& [variable, key] : {std::pair{"TEND_JOB", "job"},
                                            {"UPSTART_JOB", "job"},
                                            {"TEND_INSTANCE", "instance"},
                                            {"UPSTART_INSTANCE", "instance"}}) {
            const char* value = std::getenv(variable);
            if (value && *value && !parsed.options.contains(key)) {
                parsed.options[key] = value;
            }
        }
    }
    const CommandArgument argument = spec ? spec->argument : CommandArgument::None;
    const bool stop_all = parsed.options.value("all", false);
    const bool job_first =
        argument == CommandArgument::OwnJob || argument == CommandArgument::JobFirst;
    if (job_first && !stop_all &&
        (positional.empty() || positional.front().find('=') != std::string::npos)) {
        // Inside a job, a bare `stop` or `start` means "this job" (Upstart's pre-start idiom).
        const char* job = std::getenv("UPSTART_JOB");
        if (job && *job && argument == CommandArgument::OwnJob) {
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
    if (argument == CommandArgument::Job && positional.empty()) {
        usageError(cli, "missing job name");
    }
    if (argument == CommandArgument::Event && positional.empty()) {
        usageError(cli, "missing event name");
    }
    const ClientMode mode = spec ? spec->mode : ClientMode::Reply;
    if (mode == ClientMode::Stream) {
        return monitor(cli);
    }
    if (mode == ClientMode::LogFile) {
        Connection connection(cli);
        const json data = requestOk(cli, connection, "log", positional);
        if (!data.value("console_log", true)) {
            fail(cli,
                 positional.front() +
                     " does not log to a file: its console is not `log` (see its job file)",
                 1, "not-logged");
        }
        if (data.value("console", "") == "journal" &&
            !std::filesystem::exists(data.value("path", ""))) {
            fail(cli,
                 positional.front() + " sends its output to the journal (console journal): " +
                     "journalctl TEND_JOB=" + data.value("job", positional.front()) +
                     " shows it; its log file holds only what the journal could not take",
                 1, "not-logged");
        }
        tend::ctl::LogView view;
        view.path = data.value("path", "");
        view.job = data.value("job", positional.front());
        view.instance = data.value("instance", "");
        view.follow = parsed.options.value("follow", false);
        // As `tail -f` and `journalctl -f`: following starts with the last lines, not the
        // whole log.
        view.lines = parsed.options.value("lines", view.follow ? kFollowLines : -1L);
        view.json = cli.json;
        if (const std::string error = tend::ctl::showLog(view); !error.empty()) {
            fail(cli, error);
        }
        return 0;
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
    // Installed as `initctl` (tend's Upstart shortcuts), it is tendctl under that name.
    if (cli.program != "initctl") {
        cli.program = "tendctl";
    }
    if (args.empty()) {
        printUsage(stderr);
        return 2;
    }
    const std::string command = args.front();
    args.erase(args.begin());
    if (command == "--help" || command == "-h" || command == "help") {
        printUsage(stdout);
        return 0;
    }
    if (command == "--version") {
        std::printf("tendctl %s\n", TEND_VERSION);
        return 0;
    }
    const CommandSpec* spec = tend::control::findCommand(command);
    if (spec && spec->mode == ClientMode::Checker) {
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
    if (!spec && command.starts_with("-")) {
        usageError(cli, "unknown option '" + command + "'");
    }
    // Anything else may be a plugin's command (list-env, ...): tend knows.
    return run(cli, command, std::move(args));
}
