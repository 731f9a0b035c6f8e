// SPDX-License-Identifier: MIT
#include "model/signals.hpp"

#include <charconv>
#include <csignal>
#include <utility>

namespace tend::model {

namespace {

constexpr std::pair<std::string_view, int> kSignals[] = {
    {"HUP", SIGHUP},       {"INT", SIGINT},     {"QUIT", SIGQUIT}, {"ILL", SIGILL},
    {"TRAP", SIGTRAP},     {"ABRT", SIGABRT},   {"IOT", SIGIOT},   {"BUS", SIGBUS},
    {"FPE", SIGFPE},       {"KILL", SIGKILL},   {"USR1", SIGUSR1}, {"SEGV", SIGSEGV},
    {"USR2", SIGUSR2},     {"PIPE", SIGPIPE},   {"ALRM", SIGALRM}, {"TERM", SIGTERM},
    {"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD},   {"CLD", SIGCHLD},  {"CONT", SIGCONT},
    {"STOP", SIGSTOP},     {"TSTP", SIGTSTP},   {"TTIN", SIGTTIN}, {"TTOU", SIGTTOU},
    {"URG", SIGURG},       {"XCPU", SIGXCPU},   {"XFSZ", SIGXFSZ}, {"VTALRM", SIGVTALRM},
    {"PROF", SIGPROF},     {"WINCH", SIGWINCH}, {"IO", SIGIO},     {"POLL", SIGPOLL},
    {"PWR", SIGPWR},       {"SYS", SIGSYS},
};

}  // namespace

std::optional<int> parseSignal(std::string_view text) {
    if (!text.empty() && text.front() >= '0' && text.front() <= '9') {
        int number = 0;
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
        if (ec != std::errc{} || end != text.data() + text.size() || number < 1 || number > 64) {
            return std::nullopt;
        }
        return number;
    }
    if (text.starts_with("SIG")) {
        text.remove_prefix(3);
    }
    for (const auto& [name, number] : kSignals) {
        if (name == text) {
            return number;
        }
    }
    return std::nullopt;
}

std::string signalName(int signal) {
    for (const auto& [name, number] : kSignals) {
        if (number == signal) {
            return std::string(name);
        }
    }
    return std::to_string(signal);
}

}  // namespace tend::model
