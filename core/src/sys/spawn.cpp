// SPDX-License-Identifier: MIT
#include "sys/spawn.hpp"

#include "model/shortage.hpp"
#include "sys/clone_into_cgroup.hpp"

#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <mutex>

namespace tend::sys {

namespace {

constexpr const char* kDefaultPath = "/usr/local/bin:/usr/bin:/bin";

enum class Stage : int {
    None,
    Setsid,
    Stdio,
    Script,
    Limit,
    Nice,
    OomScore,
    Groups,
    Setgid,
    Setuid,
    Chdir,
    Exec
};

// Filled in by the child, read by the parent once vfork returns: the two share memory.
struct ChildFailure {
    Stage stage = Stage::None;
    int error = 0;
};

struct ChildPlan {
    const char* path = nullptr;
    char* const* argv = nullptr;
    char* const* envp = nullptr;
    const char* cwd = nullptr;
    int stdin_fd = -1;
    int stdout_fd = -1;  // -1: keep tend's own
    int stderr_fd = -1;  // -1: the same as stdout_fd
    int script_fd = -1;
    // Above 0: the child shares the parent's descriptor table (CLONE_FILES) and first takes a
    // private copy of the descriptors below this one, closing the rest.
    unsigned unshare_below = 0;
    bool set_umask = false;
    mode_t umask_value = 0;
    bool set_nice = false;
    int nice_value = 0;
    const char* oom_text = nullptr;
    const std::pair<const int, model::ResourceLimit>* limits = nullptr;
    std::size_t limit_count = 0;
    bool set_ids = false;
    uid_t uid = 0;
    gid_t gid = 0;
    const gid_t* groups = nullptr;
    std::size_t group_count = 0;
    ChildFailure* failure = nullptr;
};

// The child's code runs on a stack AddressSanitizer did not see made (clone_into_cgroup.hpp),
// where its bookkeeping for a call that does not return would print a false warning.
#define TEND_CHILD_CODE __attribute__((no_sanitize_address))

[[noreturn]] TEND_CHILD_CODE void childFail(const ChildPlan& plan, Stage stage) {
    plan.failure->stage = stage;
    plan.failure->error = errno;
    _exit(127);
}

constexpr int kScriptFd = 9;

// Closes [first, last]; close_range where the kernel has it, one by one up to the descriptor
// limit where it does not.
TEND_CHILD_CODE void closeRange(unsigned first, unsigned last) {
    if (first > last || syscall(SYS_close_range, first, last, 0) == 0) {
        return;
    }
    rlimit files{};
    unsigned top = 65536;
    if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur != RLIM_INFINITY &&
        files.rlim_cur < top) {
        top = static_cast<unsigned>(files.rlim_cur);
    }
    for (unsigned fd = first; fd <= last && fd < top; ++fd) {
        close(static_cast<int>(fd));
    }
}

constexpr unsigned kCloseRangeUnshare = 2;  // linux/close_range.h

// Runs in the vfork child: system calls only, no allocation, no locks.
[[noreturn]] __attribute__((noinline)) TEND_CHILD_CODE void runChild(const ChildPlan& plan) {
    // Before anything touches a descriptor: until then the table is the parent's.
    if (plan.unshare_below > 0 &&
        syscall(SYS_close_range, plan.unshare_below, ~0u, kCloseRangeUnshare) < 0) {
        childFail(plan, Stage::Stdio);
    }
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; ++sig) {
        if (sig != SIGKILL && sig != SIGSTOP) {
            sigaction(sig, &dfl, nullptr);
        }
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);

    if (setsid() < 0) {
        childFail(plan, Stage::Setsid);
    }
    if (dup2(plan.stdin_fd, 0) < 0) {
        childFail(plan, Stage::Stdio);
    }
    if (plan.stdout_fd >= 0 &&
        (dup2(plan.stdout_fd, 1) < 0 ||
         dup2(plan.stderr_fd >= 0 ? plan.stderr_fd : plan.stdout_fd, 2) < 0)) {
        childFail(plan, Stage::Stdio);
    }
    if (plan.script_fd >= 0) {
        // dup2 onto itself would keep close-on-exec.
        const int moved = plan.script_fd == kScriptFd ? fcntl(kScriptFd, F_SETFD, 0)
                                                      : dup2(plan.script_fd, kScriptFd);
        if (moved < 0) {
            childFail(plan, Stage::Script);
        }
    }
    // A job gets stdin, stdout, stderr (and its script) and nothing else: not tend's log or
    // control socket, and not whatever the session's startup script left open for tend.
    if (plan.script_fd >= 0) {
        closeRange(3, kScriptFd - 1);
        closeRange(kScriptFd + 1, ~0u);
    } else {
        closeRange(3, ~0u);
    }
    for (std::size_t i = 0; i < plan.limit_count; ++i) {
        const auto& [resource, limit] = plan.limits[i];
        rlimit value{};
        value.rlim_cur = limit.soft == model::kUnlimited ? RLIM_INFINITY : limit.soft;
        value.rlim_max = limit.hard == model::kUnlimited ? RLIM_INFINITY : limit.hard;
        if (setrlimit(static_cast<__rlimit_resource>(resource), &value) < 0) {
            childFail(plan, Stage::Limit);
        }
    }
    if (plan.set_nice && setpriority(PRIO_PROCESS, 0, plan.nice_value) < 0) {
        childFail(plan, Stage::Nice);
    }
    if (plan.oom_text) {
        const int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
        if (fd < 0 || write(fd, plan.oom_text, strlen(plan.oom_text)) < 0) {
            childFail(plan, Stage::OomScore);
        }
        close(fd);
    }
    if (plan.set_umask) {
        umask(plan.umask_value);
    }
    if (plan.set_ids) {
        if (setgroups(plan.group_count, plan.groups) < 0) {
            childFail(plan, Stage::Groups);
        }
        if (setgid(plan.gid) < 0) {
            childFail(plan, Stage::Setgid);
        }
        if (setuid(plan.uid) < 0) {
            childFail(plan, Stage::Setuid);
        }
    }
    if (plan.cwd && chdir(plan.cwd) < 0) {
        childFail(plan, Stage::Chdir);
    }
    execve(plan.path, plan.argv, plan.envp);
    childFail(plan, Stage::Exec);
}

[[noreturn]] TEND_CHILD_CODE void childEntry(const void* plan) {
    runChild(*static_cast<const ChildPlan*>(plan));
}

// Starts the child in the job's cgroup where there is one. If the kernel will not (too old, or
// the cgroup is not tend's to use), the child starts in tend's own and `joined` says so: the
// parent's wider search still finds the job's processes, so it is no reason not to start.
// Where clone3 is refused, plain vfork, whose child has a copy of the whole table.
__attribute__((noinline)) pid_t forkChild(ChildPlan& plan, int cgroup_fd, bool& joined) {
    sigset_t all;
    sigset_t old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pid_t pid = -1;
    joined = false;
    const bool share = plan.unshare_below > 0;
    if (cgroup_fd >= 0) {
        pid = cloneIntoCgroup(cgroup_fd, share, &childEntry, &plan);
        joined = pid > 0;
    }
    if (pid < 0 && share) {
        pid = cloneIntoCgroup(-1, true, &childEntry, &plan);
    }
    if (pid < 0) {
        plan.unshare_below = 0;
        pid = vfork();
        if (pid == 0) {
            runChild(plan);
        }
    }
    const int saved = errno;
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    errno = saved;
    return pid;
}

// Low descriptors a child finds its standard streams and script in, reserved once, early, while
// the lowest numbers are free (an exec's close-on-exec frees them for the next tend too). The
// parent points them at what one spawn needs, and back at /dev/null after it, so that a child
// that shares the table copies a handful of descriptors, however many tend holds.
struct SpawnSlots {
    int null = -1;  // /dev/null for good: stdin, and output for `console none`
    int out = -1;
    int err = -1;
    int script = -1;
    unsigned end() const { return static_cast<unsigned>(std::max({null, out, err, script})) + 1; }
};

std::mutex slots_mutex;  // one spawn at a time uses the slots

const SpawnSlots* spawnSlots() {
    static const SpawnSlots slots = [] {
        SpawnSlots reserved;
        // close_range (Linux 5.9) closes nothing here; its absence means no CLOSE_RANGE_UNSHARE.
        if (syscall(SYS_close_range, INT_MAX, INT_MAX, 0) != 0) {
            return reserved;
        }
        const int opened = ::open("/dev/null", O_RDWR | O_CLOEXEC);
        if (opened < 0) {
            return reserved;
        }
        // From 3 up, even when tend was started with a standard descriptor closed: 0 to 2 are
        // tend's own, and whatever it puts there later must not become a job's stream.
        reserved.null = ::fcntl(opened, F_DUPFD_CLOEXEC, 3);
        reserved.out = ::fcntl(opened, F_DUPFD_CLOEXEC, 3);
        reserved.err = ::fcntl(opened, F_DUPFD_CLOEXEC, 3);
        reserved.script = ::fcntl(opened, F_DUPFD_CLOEXEC, 3);
        ::close(opened);
        if (reserved.null < 0 || reserved.out < 0 || reserved.err < 0 || reserved.script < 0) {
            for (const int fd : {reserved.null, reserved.out, reserved.err, reserved.script}) {
                if (fd >= 0) {
                    ::close(fd);
                }
            }
            return SpawnSlots{};
        }
        return reserved;
    }();
    return slots.null >= 0 ? &slots : nullptr;
}

// Points `slot` at `fd`'s file; false with errno set if it cannot.
bool fillSlot(int slot, int fd) {
    return ::dup3(fd, slot, O_CLOEXEC) >= 0;
}

std::string describe(Stage stage, int error, const ProcessSetup& setup, const std::string& path) {
    std::string what;
    switch (stage) {
    case Stage::None:
        what = "start";
        break;
    case Stage::Setsid:
        what = "setsid";
        break;
    case Stage::Stdio:
        what = "redirect output";
        break;
    case Stage::Script:
        what = "pass the script";
        break;
    case Stage::Limit:
        what = "limit";
        break;
    case Stage::Nice:
        what = "nice";
        break;
    case Stage::OomScore:
        what = "oom score";
        break;
    case Stage::Groups:
        what = "setgroups";
        break;
    case Stage::Setgid:
        what = "setgid";
        break;
    case Stage::Setuid:
        what = "setuid";
        break;
    case Stage::Chdir:
        what = "chdir " + setup.cwd;
        break;
    case Stage::Exec:
        what = "exec " + path;
        break;
    }
    return what + ": " + std::strerror(error);
}

}  // namespace

std::string resolveExecutable(const std::string& name, const std::vector<std::string>& env,
                              std::string& error) {
    if (name.find('/') != std::string::npos) {
        return name;  // execve reports what is wrong with it
    }
    std::string path_list = kDefaultPath;
    for (const auto& entry : env) {
        if (entry.starts_with("PATH=")) {
            path_list = entry.substr(5);
        }
    }
    std::string not_executable;
    std::size_t start = 0;
    while (start <= path_list.size()) {
        std::size_t end = path_list.find(':', start);
        if (end == std::string::npos) {
            end = path_list.size();
        }
        std::string dir = path_list.substr(start, end - start);
        start = end + 1;
        if (dir.empty()) {
            dir = ".";
        }
        const std::string candidate = dir + "/" + name;
        struct stat st {};
        if (::stat(candidate.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
            continue;
        }
        if (::access(candidate.c_str(), X_OK) == 0) {
            return candidate;
        }
        if (not_executable.empty()) {
            not_executable = candidate;
        }
    }
    if (!not_executable.empty()) {
        error = "exec " + not_executable + ": Permission denied";
    } else {
        error = "exec " + name + ": command not found in PATH (" + path_list + ")";
    }
    return {};
}

void reserveSpawnSlots() {
    const std::lock_guard lock(slots_mutex);
    spawnSlots();
}

SpawnOutcome spawnProcess(const ProcessSetup& setup, int cgroup_dir_fd) {
    SpawnOutcome outcome;
    if (setup.argv.empty()) {
        outcome.error = "empty command";
        return outcome;
    }
    const std::string path = resolveExecutable(setup.argv[0], setup.env, outcome.error);
    if (path.empty()) {
        return outcome;
    }

    std::vector<char*> argv;
    argv.reserve(setup.argv.size() + 1);
    for (const auto& arg : setup.argv) {
        argv.push_back(const_cast<char*>(arg.c_str()));
    }
    argv.push_back(nullptr);
    std::vector<char*> envp;
    envp.reserve(setup.env.size() + 1);
    for (const auto& entry : setup.env) {
        envp.push_back(const_cast<char*>(entry.c_str()));
    }
    envp.push_back(nullptr);

    std::unique_lock slots_lock(slots_mutex);
    const SpawnSlots* slots = spawnSlots();
    const int devnull = slots ? slots->null : ::open("/dev/null", O_RDWR | O_CLOEXEC);
    if (devnull < 0) {
        outcome.error = std::string("open /dev/null: ") + std::strerror(errno);
        outcome.short_of_resources = model::isShortage(errno);
        return outcome;
    }
    const auto closeDevNull = [&] {
        if (!slots) {
            ::close(devnull);
        }
    };
    int script_fd = -1;
    if (!setup.script.empty()) {
        script_fd = ::memfd_create("tend-script", MFD_CLOEXEC);
        if (script_fd < 0 ||
            ::write(script_fd, setup.script.data(), setup.script.size()) !=
                static_cast<ssize_t>(setup.script.size()) ||
            ::lseek(script_fd, 0, SEEK_SET) < 0) {
            outcome.error = std::string("pass the script: ") + std::strerror(errno);
            outcome.short_of_resources = model::isShortage(errno);
            closeDevNull();
            if (script_fd >= 0) {
                ::close(script_fd);
            }
            return outcome;
        }
    }

    const std::string oom_text = setup.oom_score ? std::to_string(*setup.oom_score) : "";
    const std::vector<std::pair<const int, model::ResourceLimit>> limits(setup.limits.begin(),
                                                                         setup.limits.end());
    ChildFailure failure;
    ChildPlan plan;
    plan.path = path.c_str();
    plan.argv = argv.data();
    plan.envp = envp.data();
    plan.cwd = setup.cwd.empty() ? nullptr : setup.cwd.c_str();
    plan.stdin_fd = devnull;
    switch (setup.output) {
    case OutputMode::Null:
        plan.stdout_fd = devnull;
        break;
    case OutputMode::Fd:
        plan.stdout_fd = setup.output_fd >= 0 ? setup.output_fd : devnull;
        plan.stderr_fd = setup.output_fd >= 0 ? setup.error_fd : -1;
        break;
    case OutputMode::Inherit:
        plan.stdout_fd = -1;
        break;
    }
    plan.script_fd = script_fd;
    plan.set_umask = setup.umask.has_value();
    plan.umask_value = setup.umask.value_or(0);
    plan.set_nice = setup.nice.has_value();
    plan.nice_value = setup.nice.value_or(0);
    plan.oom_text = setup.oom_score ? oom_text.c_str() : nullptr;
    plan.limits = limits.data();
    plan.limit_count = limits.size();
    plan.set_ids = setup.uid.has_value();
    plan.uid = setup.uid.value_or(0);
    plan.gid = setup.gid.value_or(0);
    plan.groups = setup.groups.data();
    plan.group_count = setup.groups.size();
    plan.failure = &failure;

    if (slots) {
        // Should a slot refuse, the child gets the descriptors where they are, and a copy of
        // the whole table with them.
        const bool own_out = plan.stdout_fd >= 0 && plan.stdout_fd != devnull;
        const bool own_err = plan.stderr_fd >= 0 && plan.stderr_fd != devnull;
        if ((!own_out || fillSlot(slots->out, plan.stdout_fd)) &&
            (!own_err || fillSlot(slots->err, plan.stderr_fd)) &&
            (script_fd < 0 || fillSlot(slots->script, script_fd))) {
            plan.stdout_fd = own_out ? slots->out : plan.stdout_fd;
            plan.stderr_fd = own_err ? slots->err : plan.stderr_fd;
            plan.script_fd = script_fd >= 0 ? slots->script : -1;
            plan.unshare_below = slots->end();
        }
    }

    bool joined_cgroup = false;
    const pid_t pid = forkChild(plan, cgroup_dir_fd, joined_cgroup);
    const int fork_error = errno;
    if (slots) {
        // Back to /dev/null: a slot must not keep a job's pipe open once the job has it.
        for (const int slot : {slots->out, slots->err, slots->script}) {
            fillSlot(slot, slots->null);
        }
    }
    slots_lock.unlock();
    closeDevNull();
    if (script_fd >= 0) {
        ::close(script_fd);
    }
    if (pid < 0) {
        outcome.error = std::string("fork: ") + std::strerror(fork_error);
        outcome.short_of_resources = model::isShortage(fork_error);
        return outcome;
    }
    if (failure.stage != Stage::None) {
        int status = 0;
        ::waitpid(pid, &status, 0);  // it has already _exit()ed
        outcome.error = describe(failure.stage, failure.error, setup, path);
        outcome.short_of_resources = model::isShortage(failure.error);  // exec: ENOMEM, say
        return outcome;
    }
    outcome.pid = pid;
    outcome.joined_cgroup = joined_cgroup;
    return outcome;
}

}  // namespace tend::sys
