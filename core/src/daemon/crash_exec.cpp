// SPDX-License-Identifier: MIT
#include "daemon/crash_exec.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "plugin/plugin_manager.hpp"

namespace tend::daemon {

namespace {

constexpr int kFatalSignals[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};

// Everything the handler reads, made before it can run.
struct Armed {
    std::string binary;
    std::string state_path;
    int listen_fd = -1;
    std::vector<std::string> args;
    std::vector<char*> argv;  // args, then two slots for the refusal, then null
    const plugin::PluginManager* plugins = nullptr;
    pid_t loop_thread = 0;
};

std::atomic<Armed*> armed{nullptr};  // lock-free: read from the handler
char refusal[1024];
alignas(16) char alternate_stack[64 * 1024];

const char* signalName(int signal) {
    switch (signal) {
    case SIGSEGV:
        return "SIGSEGV";
    case SIGBUS:
        return "SIGBUS";
    case SIGILL:
        return "SIGILL";
    case SIGFPE:
        return "SIGFPE";
    case SIGABRT:
        return "SIGABRT";
    default:
        return "a fatal signal";
    }
}

// Appends to `out` what fits of `text` (leaving room for the terminating NUL).
void append(char*& at, const char* end, const char* text, std::size_t length) {
    while (length-- > 0 && at + 1 < end) {
        *at++ = *text++;
    }
    *at = '\0';
}
void append(char*& at, const char* end, const char* text) {
    append(at, end, text, std::strlen(text));
}

// Keeps the control socket's listener and every pipe (the jobs' output) open across the exec,
// and nothing else but the standard streams, as replaceWithoutState does.
void keep(int fd, int listen_fd) {
    struct stat about {};
    const bool kept = fd == listen_fd || (::fstat(fd, &about) == 0 && S_ISFIFO(about.st_mode));
    ::fcntl(fd, F_SETFD, kept ? 0 : FD_CLOEXEC);
}

void keepOnlyPipesAndListener(int listen_fd) {
    struct Entry {
        std::uint64_t inode;
        std::int64_t offset;
        unsigned short length;
        unsigned char type;
        char name[1];
    };
    const int directory = ::open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (directory >= 0) {
        alignas(8) char buffer[4096];
        long got = 0;
        while ((got = ::syscall(SYS_getdents64, directory, buffer, sizeof buffer)) > 0) {
            for (long at = 0; at < got;) {
                const auto* entry = reinterpret_cast<const Entry*>(buffer + at);
                at += entry->length;
                int fd = 0;
                bool number = entry->name[0] != '\0';
                for (const char* c = entry->name; *c != '\0'; ++c) {
                    number = number && *c >= '0' && *c <= '9';
                    fd = fd * 10 + (*c - '0');
                }
                if (number && fd > 2 && fd != directory) {
                    keep(fd, listen_fd);
                }
            }
        }
        ::close(directory);
        return;
    }
    // No descriptor left to read the list with: every possible one, up to a bound.
    rlimit files{};
    const int highest = ::getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < 65536
                            ? static_cast<int>(files.rlim_cur)
                            : 65536;
    for (int fd = 3; fd < highest; ++fd) {
        if (::fcntl(fd, F_GETFD) >= 0) {
            keep(fd, listen_fd);
        }
    }
}

void dieOf(int signal) {
    struct sigaction fatal {};
    fatal.sa_handler = SIG_DFL;
    sigemptyset(&fatal.sa_mask);
    ::sigaction(signal, &fatal, nullptr);
    ::raise(signal);  // delivered once the handler returns, if the fault does not come again
}

void onFatalSignal(int signal, siginfo_t*, void*) {
    const int saved_errno = errno;
    const Armed* plan = armed.load(std::memory_order_relaxed);
    if (!plan || static_cast<pid_t>(::syscall(SYS_gettid)) != plan->loop_thread) {
        dieOf(signal);
        return;
    }
    const plugin::PluginManager::CurrentCall call = plan->plugins->currentCall();
    if (!call.plugin) {
        dieOf(signal);
        return;
    }
    char* at = refusal;
    const char* end = refusal + sizeof refusal;
    append(at, end, call.plugin->data(), call.plugin->size());
    append(at, end, "=it crashed (");
    append(at, end, signalName(signal));
    append(at, end, ") in a call into it (");
    append(at, end, call.what ? call.what : "a call");
    append(at, end, "); tend replaced itself to run on without it");
    char** argv = const_cast<char**>(plan->argv.data());
    const std::size_t n = plan->args.size();
    argv[n] = const_cast<char*>("--refuse-plugin");
    argv[n + 1] = refusal;
    argv[n + 2] = nullptr;

    const char notice[] = "tend: a plugin crashed; tend replaces itself without it\n";
    [[maybe_unused]] const auto written = ::write(2, notice, sizeof notice - 1);
    // The next tend finds no state file, so it adopts the jobs among its children.
    ::unlink(plan->state_path.c_str());
    keepOnlyPipesAndListener(plan->listen_fd);
    // Held until the next tend listens for them, as every re-exec holds them.
    sigset_t held;
    sigemptyset(&held);
    for (const int session_signal : {SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2, SIGCHLD}) {
        sigaddset(&held, session_signal);
    }
    ::sigprocmask(SIG_SETMASK, &held, nullptr);
    ::execve(plan->binary.c_str(), argv, environ);  // execve: the one of them a handler may call
    errno = saved_errno;
    dieOf(signal);
}

}  // namespace

CrashExec::CrashExec(const HungTendExec& exec, const plugin::PluginManager& plugins) {
    auto plan = new Armed;  // read by the handler until the destructor: never moved
    plan->binary = exec.binary;
    plan->state_path = exec.state_path.string();
    plan->listen_fd = exec.listen_fd;
    plan->args = statelessCommandLine(exec);
    for (auto& arg : plan->args) {
        plan->argv.push_back(arg.data());
    }
    plan->argv.resize(plan->args.size() + 3, nullptr);
    plan->plugins = &plugins;
    plan->loop_thread = static_cast<pid_t>(::syscall(SYS_gettid));
    armed.store(plan);

    stack_t stack{};
    stack.ss_sp = alternate_stack;
    stack.ss_size = sizeof alternate_stack;
    ::sigaltstack(&stack, nullptr);
    struct sigaction action {};
    action.sa_sigaction = onFatalSignal;
    action.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&action.sa_mask);
    for (const int signal : kFatalSignals) {
        ::sigaction(signal, &action, nullptr);
    }
}

CrashExec::~CrashExec() {
    for (const int signal : kFatalSignals) {
        ::signal(signal, SIG_DFL);
    }
    delete armed.exchange(nullptr);
}

}  // namespace tend::daemon
