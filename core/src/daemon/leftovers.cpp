// SPDX-License-Identifier: MIT
#include "daemon/leftovers.hpp"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

namespace tend::daemon {

namespace fs = std::filesystem;

std::size_t endLeftovers(const std::string& socket_path, spdlog::logger& logger) {
    const std::string wanted = "TEND_SESSION=" + socket_path;
    std::vector<pid_t> found;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator("/proc", ec)) {
        const std::string name = entry.path().filename().string();
        if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) {
            continue;
        }
        const pid_t pid = static_cast<pid_t>(std::stol(name));
        struct stat st {};
        if (pid == ::getpid() || ::stat(entry.path().c_str(), &st) != 0 ||
            st.st_uid != ::geteuid()) {
            continue;
        }
        std::ifstream in(entry.path() / "environ", std::ios::binary);
        std::string env((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        std::size_t start = 0;
        bool ours = false;
        bool a_job = false;
        bool lingering = false;  // a `session linger` job's: it outlives its session
        while (start < env.size()) {
            std::size_t end = env.find('\0', start);
            if (end == std::string::npos) {
                end = env.size();
            }
            const std::string_view entry_text(env.data() + start, end - start);
            ours = ours || entry_text == wanted;
            a_job = a_job || entry_text.starts_with("TEND_JOB=");
            lingering = lingering || entry_text == "TEND_LINGER=1";
            start = end + 1;
        }
        if (ours && a_job && !lingering) {
            found.push_back(pid);
        }
    }
    if (found.empty()) {
        return 0;
    }
    logger.warn(
        "{} process(es) of this session are still running without a tend (did the "
        "previous one crash?); ending them before the jobs start again",
        found.size());
    for (pid_t pid : found) {
        ::kill(pid, SIGTERM);
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    const auto anyAlive = [&] {
        return std::any_of(found.begin(), found.end(),
                           [](pid_t pid) { return ::kill(pid, 0) == 0; });
    };
    while (anyAlive() && std::chrono::steady_clock::now() < deadline) {
        ::usleep(20000);
    }
    for (pid_t pid : found) {
        if (::kill(pid, SIGKILL) == 0) {
            logger.warn("process {} ignored SIGTERM; killed it", pid);
        }
    }
    return found.size();
}

}  // namespace tend::daemon
