// SPDX-License-Identifier: MIT
#include "daemon/job_adoption.hpp"
#include "sys/own_process.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <spdlog/spdlog.h>
#include <climits>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace tend::daemon {

namespace {

std::string readFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

std::string linkOf(const std::string& path) {
    char target[PATH_MAX];
    const ssize_t n = ::readlink(path.c_str(), target, sizeof target - 1);
    return n > 0 ? std::string(target, static_cast<std::size_t>(n)) : std::string();
}

struct ProcessFacts {
    pid_t pgid = 0;
    pid_t session = 0;
    unsigned long long start_time = 0;
};

bool factsOf(pid_t pid, ProcessFacts& facts) {
    const std::string stat = readFile("/proc/" + std::to_string(pid) + "/stat");
    const auto close = stat.rfind(')');
    if (close == std::string::npos) {
        return false;
    }
    std::istringstream fields(stat.substr(close + 2));
    std::string state;
    long ppid = 0;
    fields >> state >> ppid >> facts.pgid >> facts.session;
    if (!fields || state == "Z") {
        return false;
    }
    std::string skip;
    for (int i = 0; i < 14; ++i) {  // fields 8..21; the 22nd is the start time
        fields >> skip;
    }
    fields >> facts.start_time;
    return static_cast<bool>(fields);
}

// tend's own read and write ends of pipes, by the pipe's name in /proc ("pipe:[1234]").
struct PipeEnds {
    int read_fd = -1;
    int write_fd = -1;
};

std::map<std::string, PipeEnds> ownPipes() {
    std::map<std::string, PipeEnds> out;
    for (const int fd : sys::openDescriptors()) {
        const std::string target = linkOf("/proc/self/fd/" + std::to_string(fd));
        if (target.rfind("pipe:", 0) != 0) {
            continue;
        }
        const int flags = ::fcntl(fd, F_GETFL);
        if (flags < 0) {
            continue;
        }
        PipeEnds& ends = out[target];
        ((flags & O_ACCMODE) == O_WRONLY ? ends.write_fd : ends.read_fd) = fd;
    }
    return out;
}

}  // namespace

dispatch::SavedState adoptRunningJobs(spdlog::logger& logger) {
    dispatch::SavedState state;
    state.has_global = false;
    const auto pipes = ownPipes();
    // One main process per instance: the oldest child leading its own session.
    std::map<std::pair<std::string, std::string>, std::pair<unsigned long long, pid_t>> found;
    std::map<pid_t, std::vector<std::string>> environments;
    for (const pid_t pid : sys::ownChildren()) {
        ProcessFacts facts;
        if (!factsOf(pid, facts) || facts.session != pid) {
            continue;
        }
        const std::string environ = readFile("/proc/" + std::to_string(pid) + "/environ");
        std::vector<std::string> env;
        std::string job;
        std::string instance;
        for (std::size_t start = 0; start < environ.size();) {
            std::size_t end = environ.find('\0', start);
            end = end == std::string::npos ? environ.size() : end;
            std::string entry = environ.substr(start, end - start);
            if (entry.rfind("UPSTART_JOB=", 0) == 0) {
                job = entry.substr(12);
            } else if (entry.rfind("UPSTART_INSTANCE=", 0) == 0) {
                instance = entry.substr(17);
            }
            if (entry.find('=') != std::string::npos && entry.front() != '=') {
                env.push_back(std::move(entry));
            }
            start = end + 1;
        }
        if (job.empty()) {
            continue;
        }
        auto [it, added] = found.try_emplace({job, instance}, facts.start_time, pid);
        if (!added && facts.start_time < it->second.first) {
            it->second = {facts.start_time, pid};
        }
        environments[pid] = std::move(env);
    }
    for (const auto& [key, chosen] : found) {
        const pid_t pid = chosen.second;
        dispatch::SavedJob job;
        job.name = key.first;
        job.instance = key.second;
        job.pid = pid;
        job.pgid = ::getpgid(pid);
        job.env = std::move(environments[pid]);
        const std::string base = "/proc/" + std::to_string(pid) + "/fd/";
        const auto out = pipes.find(linkOf(base + "1"));
        const auto err = pipes.find(linkOf(base + "2"));
        if (out != pipes.end()) {
            job.output_fd = out->second.write_fd;
            job.router_out_fd = out->second.read_fd;
        }
        if (err != pipes.end() && err != out) {
            job.error_fd = err->second.write_fd;
            job.router_err_fd = err->second.read_fd;
        }
        logger.info("adopted {}{} (process {}){}", job.name,
                    job.instance.empty() ? "" : " (" + job.instance + ")", pid,
                    job.router_out_fd >= 0 ? " with its output pipes" : "");
        state.jobs.push_back(std::move(job));
    }
    return state;
}

}  // namespace tend::daemon
