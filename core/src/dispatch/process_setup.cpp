// SPDX-License-Identifier: MIT
// Process setup: what a job's process runs (exec line or script), with which environment,
// identity, limits and output, and the spawn itself.
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <spdlog/spdlog.h>
#include <algorithm>

#include "dispatch/supervisor.hpp"

namespace tend::dispatch {

using model::ProcessType;

namespace {

constexpr std::size_t kMaxInlineScript = 100000;  // larger scripts go through /proc/self/fd/9

// Upstart runs an exec line through the shell when it holds any of these.
bool needsShell(std::string_view command) {
    return command.find_first_of("~`!$^&*()=|\\{}[];\"'<>?") != std::string_view::npos;
}

std::vector<std::string> splitWords(std::string_view text) {
    std::vector<std::string> words;
    std::size_t i = 0;
    while (i < text.size()) {
        while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) {
            ++i;
        }
        const std::size_t start = i;
        while (i < text.size() && text[i] != ' ' && text[i] != '\t') {
            ++i;
        }
        if (i > start) {
            words.emplace_back(text.substr(start, i - start));
        }
    }
    return words;
}

FailedProcess failedProcessOf(ProcessType type) {
    switch (type) {
    case ProcessType::Main:
        return FailedProcess::Main;
    case ProcessType::PreStart:
        return FailedProcess::PreStart;
    case ProcessType::PostStart:
        return FailedProcess::PostStart;
    case ProcessType::PreStop:
        return FailedProcess::PreStop;
    case ProcessType::PostStop:
        return FailedProcess::PostStop;
    }
    return FailedProcess::Main;
}

// `setuid`/`setgid`: applied when tend runs as root; otherwise a job may only name tend's own
// user and group. Returns an error text, empty when the job may run.
std::string resolveIdentity(const model::JobClass& cls, sys::ProcessSetup& setup) {
    const bool root = ::geteuid() == 0;
    const auto refuse = [](const char* stanza, const std::string& name, const char* kind,
                           unsigned own, const char* whom) {
        return std::string(stanza) + " " + name + ": tend runs as " + kind + " " +
               std::to_string(own) + " and only root can run a job as another " + whom;
    };
    if (cls.seldom->setuid) {
        const passwd* pw = ::getpwnam(cls.seldom->setuid->c_str());
        if (!pw) {
            return "setuid " + *cls.seldom->setuid + ": no such user";
        }
        if (!root && pw->pw_uid != ::geteuid()) {
            return refuse("setuid", *cls.seldom->setuid, "uid", ::geteuid(), "user");
        }
        if (root) {
            setup.uid = pw->pw_uid;
            setup.gid = pw->pw_gid;
            int count = 64;
            std::vector<gid_t> groups(static_cast<std::size_t>(count));
            if (::getgrouplist(pw->pw_name, pw->pw_gid, groups.data(), &count) < 0) {
                groups.resize(static_cast<std::size_t>(count));
                ::getgrouplist(pw->pw_name, pw->pw_gid, groups.data(), &count);
            }
            groups.resize(static_cast<std::size_t>(std::max(count, 0)));
            setup.groups = std::move(groups);
            // The session user's home and names mean nothing to the other user.
            if (!cls.seldom->chdir) {
                struct stat st {};
                const bool has_home = ::stat(pw->pw_dir, &st) == 0 && S_ISDIR(st.st_mode);
                setup.cwd = has_home ? pw->pw_dir : "/";
            }
            for (auto& entry : setup.env) {
                if (entry.starts_with("HOME=")) {
                    entry = std::string("HOME=") + pw->pw_dir;
                } else if (entry.starts_with("USER=") || entry.starts_with("LOGNAME=")) {
                    entry = entry.substr(0, entry.find('=') + 1) + pw->pw_name;
                }
            }
        }
    }
    if (cls.seldom->setgid) {
        const group* gr = ::getgrnam(cls.seldom->setgid->c_str());
        if (!gr) {
            return "setgid " + *cls.seldom->setgid + ": no such group";
        }
        if (!root && gr->gr_gid != ::getegid()) {
            return refuse("setgid", *cls.seldom->setgid, "gid", ::getegid(), "group");
        }
        if (root) {
            setup.gid = gr->gr_gid;
        }
    }
    return {};
}

}  // namespace

std::string Supervisor::logFileName(std::string_view job, std::string_view instance) {
    std::string name(job);
    if (!instance.empty()) {
        name += "-" + std::string(instance);
    }
    std::replace(name.begin(), name.end(), '/', '_');
    return name + ".log";
}

sys::ProcessSetup Supervisor::processSetup(Job& job, ProcessType type, std::string& error,
                                           bool& short_of_resources) {
    const model::JobClass& cls = *job.cls;
    const model::Process& process = *cls.process(type);
    sys::ProcessSetup setup;
    setup.job = cls.name;
    setup.instance = job.instance;

    model::Environment env = job.env.flatten();
    if (type == ProcessType::PreStop || type == ProcessType::PostStop) {
        const StopRecord& record = job.stopRecord();
        for (const auto& entry : record.stop_env.entries()) {
            env.setEntry(entry);
        }
        if (!record.stop_events.empty()) {
            env.set("UPSTART_STOP_EVENTS", record.stop_events);
            env.set("TEND_STOP_EVENTS", record.stop_events);
        }
    }
    env.set("UPSTART_JOB", cls.name);
    env.set("UPSTART_INSTANCE", job.instance);
    env.set("TEND_JOB", cls.name);
    env.set("TEND_INSTANCE", job.instance);
    if (!options_.session.empty()) {
        env.set("TEND_SESSION", options_.session);
    }
    if (!options_.upstart_session.empty()) {
        env.set("UPSTART_SESSION", options_.upstart_session);
    }
    if (cls.session_linger) {
        env.set("TEND_LINGER", "1");  // the next tend leaves it be
    }
    if (type == ProcessType::Main && cls.expect == model::Expect::Notify) {
        env.set("NOTIFY_SOCKET", options_.notify_socket);
    }
    setup.env = env.entries();

    if (process.script) {
        if (process.command.size() < kMaxInlineScript) {
            setup.argv = {"/bin/sh", "-e", "-c", process.command};
        } else {
            setup.argv = {"/bin/sh", "-e", "/proc/self/fd/9"};
            setup.script = process.command;
        }
    } else if (needsShell(process.command)) {
        setup.argv = {"/bin/sh", "-e", "-c", "exec " + process.command};
    } else {
        setup.argv = splitWords(process.command);
        if (setup.argv.empty()) {
            error = "empty command";
            return setup;
        }
    }

    setup.cwd = cls.seldom->chdir ? *cls.seldom->chdir : options_.default_cwd;
    switch (cls.console) {
    case model::Console::Default:
    case model::Console::Log:
    case model::Console::Journal:
        // Opened at the first spawn rather than at `starting`, so that many jobs starting at
        // once do not all hold a pipe before any of them runs.
        if (job.output_fd < 0 && output_ && options_.console_log_available) {
            std::string output_error;
            const log::OutputSpec spec = outputSpec(job);
            if (cls.session_linger) {
                job.output_fd = output_->openLogFile(spec, output_error);
            } else {
                const log::OutputPipes pipes = output_->openOutput(spec, output_error);
                if (pipes.out_of_descriptors) {
                    // Started now, it would run with every line it writes lost; refused, it
                    // can be started again once tend has descriptors to spare.
                    error = "cannot capture its output: " + output_error;
                    short_of_resources = true;
                    return setup;
                }
                job.output_fd = pipes.out;
                job.error_fd = pipes.err;
            }
            if (job.output_fd < 0 && !job.output_failed) {
                job.output_failed = true;
                logger_->warn("{}: cannot capture output: {}; its output is discarded",
                              job.displayName(), output_error);
            }
        }
        if (job.output_fd >= 0) {
            setup.output = sys::OutputMode::Fd;
            setup.output_fd = job.output_fd;
            setup.error_fd = job.error_fd;
        }
        break;
    case model::Console::None:
        setup.output = sys::OutputMode::Null;
        break;
    case model::Console::Output:
    case model::Console::Owner:
        setup.output = sys::OutputMode::Inherit;
        break;
    }
    setup.umask = cls.umask;
    setup.nice = cls.nice;
    setup.oom_score = cls.oom_score;
    setup.limits = cls.seldom->limits;
    for (const auto& [resource, limit] : options_.default_limits) {
        setup.limits.emplace(resource, limit);  // the job's own `limit` wins
    }

    if (cls.seldom->setuid || cls.seldom->setgid) {
        error = resolveIdentity(cls, setup);
    }
    return setup;
}

bool Supervisor::spawnProcess(Job& job, ProcessType type) {
    std::string error;
    bool short_of_resources = false;
    sys::ProcessSetup setup = processSetup(job, type, error, short_of_resources);
    sys::SpawnOutcome outcome;
    if (error.empty()) {
        outcome = platform_.spawn(setup);
        error = outcome.error;
        short_of_resources = outcome.short_of_resources;
    }
    const std::string_view process_name = model::processTypeName(type);
    if (!outcome.ok()) {
        const std::string detail = std::string(process_name) + " process could not start: " + error;
        if (short_of_resources && type == ProcessType::Main && retryStartLater(job, detail)) {
            return false;
        }
        logger_->error("{} {}", job.displayName(), detail);
        jobFailed(job, failedProcessOf(type), std::nullopt, detail);
        job.goal = Goal::Stop;  // not changeGoal: we are inside changeState
        return false;
    }
    job.pids[processIndex(type)] = outcome.pid;
    job.pgids[processIndex(type)] = outcome.pid;  // every process leads its own session and group
    processes_[outcome.pid] = ProcessRef{&job, static_cast<int>(processIndex(type))};
    if (type == ProcessType::Main) {
        job.main_started = platform_.now();
        job.global_at_main = global_;
    }
    logger_->debug("{} {} process ({})", job.displayName(), process_name, outcome.pid);
    return true;
}

}  // namespace tend::dispatch
