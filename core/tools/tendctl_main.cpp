// SPDX-License-Identifier: MIT
// tendctl: controls tend the way initctl controlled Upstart, with the same output. It finds its
// tend through $TEND_SESSION, else $XDG_RUNTIME_DIR/tend/control (or --socket PATH).
// `check-config` works offline over the job search path.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "control/protocol.hpp"
#include "tendctl_check.hpp"

namespace {

constexpr const char* kUsage =
    "usage: tendctl [--socket PATH] COMMAND [OPTIONS] [ARGS]\n"
    "\n"
    "  start [-n] JOB [KEY=VALUE...]    start a job; wait until it runs (or, a task, ends)\n"
    "  stop [-n] JOB [KEY=VALUE...]     stop a job instance and wait until it has stopped\n"
    "  restart [-n] JOB [KEY=VALUE...]  stop and start a running instance\n"
    "  reload JOB [KEY=VALUE...]        send the job's reload signal to its main process\n"
    "  status JOB [KEY=VALUE...]        print a job's goal, state and processes\n"
    "  list                             print the status of every job\n"
    "  emit [-n] EVENT [KEY=VALUE...]   emit an event; wait for the jobs it starts or stops\n"
    "  version                          print the version of the running tend\n"
    "  check-config [--json] [PATH...]  check job files; default: the job search path\n"
    "\n"
    "  -n, --no-wait                    return as soon as the request is accepted\n";

// Sends one request and returns the reply, or exits with a message saying how to reach tend.
nlohmann::json request(const std::string& socket_path, const nlohmann::json& message,
                       const std::string& program) {
    if (socket_path.empty()) {
        std::fprintf(stderr,
                     "%s: cannot find tend: neither TEND_SESSION nor XDG_RUNTIME_DIR is set; "
                     "start tend, or pass --socket PATH\n",
                     program.c_str());
        std::exit(1);
    }
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (socket_path.size() >= sizeof addr.sun_path) {
        std::fprintf(stderr, "%s: socket path too long: %s\n", program.c_str(),
                     socket_path.c_str());
        std::exit(1);
    }
    std::memcpy(addr.sun_path, socket_path.c_str(), socket_path.size() + 1);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        std::fprintf(stderr,
                     "%s: cannot reach tend at %s: %s\n"
                     "%s: is tend running? Start it with 'tend', or point TEND_SESSION at its "
                     "control socket\n",
                     program.c_str(), socket_path.c_str(), std::strerror(errno), program.c_str());
        std::exit(1);
    }
    std::string text = message.dump() + "\n";
    std::string_view pending = text;
    while (!pending.empty()) {
        const ssize_t n = ::send(fd, pending.data(), pending.size(), MSG_NOSIGNAL);
        if (n <= 0) {
            std::fprintf(stderr, "%s: lost the connection to tend: %s\n", program.c_str(),
                         std::strerror(errno));
            std::exit(1);
        }
        pending.remove_prefix(static_cast<std::size_t>(n));
    }
    std::string reply;
    char buffer[65536];
    while (reply.find('\n') == std::string::npos) {
        const ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            std::fprintf(stderr, "%s: tend closed the connection without a reply\n",
                         program.c_str());
            std::exit(1);
        }
        reply.append(buffer, static_cast<std::size_t>(n));
    }
    ::close(fd);
    try {
        return nlohmann::json::parse(reply.substr(0, reply.find('\n')));
    } catch (const nlohmann::json::exception&) {
        std::fprintf(stderr, "%s: tend sent a reply that is not JSON\n", program.c_str());
        std::exit(1);
    }
}

int remoteCommand(const std::string& socket_path, const std::string& program,
                  const std::string& command, std::vector<std::string> args) {
    bool wait = true;
    std::vector<std::string> positional;
    for (auto& arg : args) {
        if (arg == "-n" || arg == "--no-wait") {
            wait = false;
        } else if (arg.starts_with("-") && arg.size() > 1) {
            std::fprintf(stderr, "%s: unknown option '%s'\n", program.c_str(), arg.c_str());
            return 2;
        } else {
            positional.push_back(std::move(arg));
        }
    }
    const bool job_command = command == "start" || command == "stop" || command == "restart" ||
                             command == "reload" || command == "status";
    if (job_command && (positional.empty() || positional.front().find('=') != std::string::npos)) {
        // Inside a job, a bare `stop` or `start` means "this job" (Upstart's pre-start idiom).
        const char* job = std::getenv("UPSTART_JOB");
        if (job && *job && command != "status") {
            positional.insert(positional.begin(), job);
            wait = false;  // the job cannot wait for its own transition
        } else {
            std::fprintf(stderr, "%s: missing job name\nTry `%s --help' for more information.\n",
                         program.c_str(), program.c_str());
            return 1;
        }
    }
    if (command == "emit" && positional.empty()) {
        std::fprintf(stderr, "%s: missing event name\n", program.c_str());
        return 1;
    }
    nlohmann::json message = {{"protocol", tend::control::kProtocolVersion},
                              {"command", command},
                              {"args", positional},
                              {"wait", wait}};
    const nlohmann::json reply = request(socket_path, message, program);
    if (reply.value("ok", false)) {
        const std::string output = reply.value("output", "");
        if (!output.empty()) {
            std::printf("%s\n", output.c_str());
        }
        return 0;
    }
    std::fprintf(stderr, "%s: %s\n", program.c_str(),
                 reply.value("error", "request failed").c_str());
    return 1;
}

}  // namespace

int main(int argc, char** argv) {
    // Installed as `start`, `stop`, ... it runs that command, as Upstart's links did.
    const std::string program = std::filesystem::path(argv[0]).filename().string();
    std::vector<std::string> args(argv + 1, argv + argc);
    std::string socket_path = tend::control::defaultSocketPath();
    if (args.size() >= 2 && args[0] == "--socket") {
        socket_path = args[1];
        args.erase(args.begin(), args.begin() + 2);
    }
    for (const char* shortcut : {"start", "stop", "restart", "reload", "status"}) {
        if (program == shortcut) {
            return remoteCommand(socket_path, program, program, args);
        }
    }
    if (args.empty()) {
        std::fputs(kUsage, stderr);
        return 2;
    }
    const std::string command = args.front();
    args.erase(args.begin());
    if (command == "check-config") {
        std::vector<char*> rest;
        for (auto& arg : args) {
            rest.push_back(arg.data());
        }
        return tend::ctl::checkConfig(static_cast<int>(rest.size()), rest.data());
    }
    if (command == "--version") {
        std::printf("tendctl %s\n", TEND_VERSION);
        return 0;
    }
    if (command == "help" || command == "--help" || command == "-h") {
        std::fputs(kUsage, stdout);
        return 0;
    }
    static const char* const kRemote[] = {"start",  "stop", "restart", "reload",
                                          "status", "list", "emit",    "version"};
    for (const char* remote : kRemote) {
        if (command == remote) {
            return remoteCommand(socket_path, "tendctl", command, std::move(args));
        }
    }
    std::fprintf(stderr,
                 "tendctl: unknown command '%s'\nTry `tendctl --help' for more information.\n",
                 command.c_str());
    return 2;
}
