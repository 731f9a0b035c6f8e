// SPDX-License-Identifier: MIT
// Hot reload end to end, against real tend processes in a private temporary tree.
//
//   reload_latency TEND EDITS JOBS REPETITIONS
//
// Edit to applied: tend watches (inotify) a tree of JOBS job files plus one more, `target`.
// Each of EDITS edits writes the next version of target.conf (a new `start on edit-N`) under a
// temporary name, reads CLOCK_MONOTONIC and renames it over target.conf, then sends
// `show-config target` over one open control connection in a tight loop until a reply names
// edit-N. The sample is the time from just before the rename to that reply; it includes the
// inotify event, the reload of the one file it names (a rename is complete, so tend applies it
// without a debounce), and half a poll round trip on average. Edits are 30 ms apart, so each is
// a reload of its own.
//
// Reload cost: a second tend, with --watch off, whose job directory does not exist yet. A full
// load is `reload-configuration` right after a tree of JOBS files is renamed into place (every
// file read and parsed, every job added); a one-file reload is `reload-configuration` after one
// file of the tree was rewritten; an idle reload has nothing to read. Each is timed as the
// control round trip, reply included, and checked against the reply's count of files read.
// The tree is then renamed away (every job removed) for the next repetition.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace {

namespace fs = std::filesystem;

long long nowNs() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

[[noreturn]] void die(const std::string& what) {
    std::fprintf(stderr, "reload_latency: %s\n", what.c_str());
    std::exit(1);
}

std::string readFile(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

void writeFile(const fs::path& file, const std::string& text) {
    fs::create_directories(file.parent_path());
    std::ofstream(file, std::ios::binary) << text;
}

// A typical job: a description, conditions on other jobs, an env line, respawn, an exec.
std::string jobText(int i) {
    return "description \"bench job " + std::to_string(i) +
           "\"\n"
           "start on started svc" +
           std::to_string(i % 50) + " and desktop-start\nstop on stopping svc" +
           std::to_string(i % 50) + "\nenv NAME=value" + std::to_string(i) +
           "\nrespawn\nexec sleep 100000\n";
}

void makeTree(const fs::path& dir, int jobs) {
    for (int i = 0; i < jobs; ++i) {
        std::string group = "g";
        group += std::to_string(i % 10);
        std::string file = "job";
        file += std::to_string(i);
        file += ".conf";
        writeFile(dir / group / file, jobText(i));
    }
}

// A tend in `root`, started the way a session starts it: the launcher returns once it is ready.
class Tend {
  public:
    Tend(const std::string& tend, const fs::path& root, const fs::path& jobs,
         std::vector<std::string> extra)
        : root_(root) {
        fs::create_directories(root);
        std::vector<std::string> argv{tend,
                                      "--jobs-dir",
                                      jobs.string(),
                                      "--runtime-dir",
                                      (root / "run").string(),
                                      "--log-dir",
                                      (root / "log").string(),
                                      "--log-file",
                                      (root / "tend.log").string(),
                                      "--log-level",
                                      "info"};
        argv.insert(argv.end(), extra.begin(), extra.end());
        std::vector<char*> args;
        for (auto& arg : argv) {
            args.push_back(arg.data());
        }
        args.push_back(nullptr);
        pid_t launcher = 0;
        if (posix_spawn(&launcher, args[0], nullptr, nullptr, args.data(), environ) != 0) {
            die("cannot start " + tend);
        }
        int status = 0;
        waitpid(launcher, &status, 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            die("tend did not start; its log:\n" + readFile(root / "tend.log"));
        }
        pid_ = std::atoi(readFile(root / "run" / "tend.pid").c_str());
        fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s",
                      (root / "run" / "control").c_str());
        if (connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
            die(std::string("connect: ") + std::strerror(errno));
        }
    }

    ~Tend() {
        close(fd_);
        if (pid_ > 0) {
            kill(pid_, SIGTERM);
            for (int i = 0; i < 400 && kill(pid_, 0) == 0; ++i) {
                std::this_thread::sleep_for(std::chrono::milliseconds(25));
            }
        }
    }

    // One request, its whole reply.
    std::string request(const std::string& command, const std::string& arg = "") {
        const std::string line = R"({"protocol":1,"command":")" + command + R"(","args":[)" +
                                 (arg.empty() ? "" : "\"" + arg + "\"") + R"(],"wait":true})" +
                                 "\n";
        if (write(fd_, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
            die("write to the control socket failed");
        }
        std::string reply;
        char buffer[65536];
        while (reply.empty() || reply.back() != '\n') {
            const ssize_t n = read(fd_, buffer, sizeof buffer);
            if (n <= 0) {
                die("tend closed the control connection");
            }
            reply.append(buffer, static_cast<std::size_t>(n));
        }
        if (reply.find("\"ok\":true") == std::string::npos) {
            die("error reply to " + command + ": " + reply);
        }
        return reply;
    }

    std::string log() const { return readFile(root_ / "tend.log"); }

  private:
    fs::path root_;
    pid_t pid_ = 0;
    int fd_ = -1;
};

struct Stats {
    double median, p90, min, max;
};

Stats stats(std::vector<double> samples) {
    std::sort(samples.begin(), samples.end());
    return {samples[samples.size() / 2], samples[samples.size() * 9 / 10], samples.front(),
            samples.back()};
}

std::size_t count(const std::string& text, const std::string& needle) {
    std::size_t n = 0;
    for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
        ++n;
    }
    return n;
}

void editToApplied(const std::string& tend, const fs::path& root, int edits, int jobs) {
    const fs::path tree = root / "watched";
    makeTree(tree, jobs);
    writeFile(tree / "target.conf", "start on edit-0\nexec sleep 100000\n");
    Tend daemon(tend, root / "a", tree, {});
    std::vector<double> samples;
    for (int i = 1; i <= edits; ++i) {
        const std::string want = "edit-" + std::to_string(i);
        writeFile(tree / ".target.conf.tmp", "start on " + want + "\nexec sleep 100000\n");
        const long long t0 = nowNs();
        fs::rename(tree / ".target.conf.tmp", tree / "target.conf");
        long long t1 = 0;
        for (;;) {
            const std::string reply = daemon.request("show-config", "target");
            t1 = nowNs();
            if (reply.find(want + "\\n") != std::string::npos ||
                reply.find(want + "\"") != std::string::npos) {
                break;
            }
            if (t1 - t0 > 5'000'000'000LL) {
                die("edit " + std::to_string(i) + " not applied after 5 s");
            }
        }
        samples.push_back(static_cast<double>(t1 - t0) / 1e6);
        std::this_thread::sleep_for(std::chrono::milliseconds(30));
    }
    const std::string log = daemon.log();
    const Stats s = stats(samples);
    std::printf(
        "edit -> show-config (rename over target.conf, %d other jobs watched): n=%zu "
        "median=%.2f ms p90=%.2f ms min=%.2f ms max=%.2f ms\n",
        jobs, samples.size(), s.median, s.p90, s.min, s.max);
    std::printf("  automatic reloads: %zu, of which read one file: %zu\n",
                count(log, "job files changed: " + std::to_string(jobs + 1) + " job files:"),
                count(log, " unchanged; 0 removed (1 read)"));
}

void reloadCost(const std::string& tend, const fs::path& root, int jobs, int repetitions) {
    const fs::path staged = root / "staged";
    const fs::path live = root / "jobs";
    makeTree(staged, jobs);
    // Past the timestamp granule of the files just written: read within it, a file is read once
    // more at the next reload, and the one-file reload would read two.
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    Tend daemon(tend, root / "b", live, {"--watch", "off"});
    const std::string all_read = "\"parsed\":" + std::to_string(jobs) + ",";
    std::vector<double> full;
    std::vector<double> one;
    std::vector<double> idle;
    const auto timed = [&](std::vector<double>& into, const std::string& expect) {
        const long long t0 = nowNs();
        const std::string reply = daemon.request("reload-configuration");
        into.push_back(static_cast<double>(nowNs() - t0) / 1e6);
        if (reply.find(expect) == std::string::npos) {
            die("reload-configuration did not read what it should (" + expect +
                "): " + reply.substr(0, 400));
        }
    };
    for (int r = 0; r < repetitions; ++r) {
        fs::rename(staged, live);
        timed(full, all_read);
        const fs::path file = live / "g3" / "job3.conf";
        writeFile(live / "g3" / ".job3.conf.tmp", jobText(3) + "env EDIT=" + std::to_string(r));
        fs::rename(live / "g3" / ".job3.conf.tmp", file);
        // Past the file's timestamp granule: a file stamped within it is read once more.
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        timed(one, "\"parsed\":1,");
        timed(idle, "\"parsed\":0,");
        fs::rename(live, staged);
        daemon.request("reload-configuration");  // every job removed
    }
    const Stats f = stats(full);
    const Stats o = stats(one);
    const Stats i = stats(idle);
    std::printf("reload-configuration on %d jobs (%d repetitions, control round trip):\n", jobs,
                repetitions);
    std::printf("  full load (%d read, %d added): median=%.2f ms min=%.2f ms max=%.2f ms\n", jobs,
                jobs, f.median, f.min, f.max);
    std::printf("  one file changed (1 read):      median=%.2f ms min=%.2f ms max=%.2f ms\n",
                o.median, o.min, o.max);
    std::printf("  nothing changed (0 read):       median=%.2f ms min=%.2f ms max=%.2f ms\n",
                i.median, i.min, i.max);
    // The one-file reload as tend logged it, without the time stamp.
    const std::string log = daemon.log();
    const std::string needle = std::to_string(jobs - 1) + " unchanged; 0 removed (1 read)";
    const auto at = log.find(needle);
    if (at == std::string::npos) {
        die("no one-file reload in tend's log");
    }
    const auto start = log.find("reload-configuration: ", log.rfind('\n', at) + 1);
    std::printf("  tend's log: %s\n", log.substr(start, at + needle.size() - start).c_str());
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 5) {
        std::fprintf(stderr, "usage: reload_latency TEND EDITS JOBS REPETITIONS\n");
        return 2;
    }
    const std::string tend = argv[1];
    const int edits = std::atoi(argv[2]);
    const int jobs = std::atoi(argv[3]);
    const int repetitions = std::atoi(argv[4]);
    char pattern[] = "/tmp/tend-reload-XXXXXX";
    if (!mkdtemp(pattern)) {
        die("mkdtemp failed");
    }
    const fs::path root = pattern;
    editToApplied(tend, root, edits, jobs);
    reloadCost(tend, root, jobs, repetitions);
    std::error_code ec;
    fs::remove_all(root, ec);
    return 0;
}
