// SPDX-License-Identifier: MIT
// From a file event to the job it starts: the harness creates a file that one of the loaded
// jobs waits for (`start on file FILE=DIR/trigger-I EVENT=create`), and that job's process, this
// same program in `stamp` mode, writes the time it began. The latency is the difference, so
// it includes inotify, the file-bridge, tend's dispatch, the fork and the exec of a small
// program, and nothing of the harness's polling. The floor beside it is what the fork and exec
// alone cost on this machine: the harness spawning the same stamp itself, no tend involved.
//
//   file_event_latency stamp FILE       (as the job: writes CLOCK_REALTIME in ns to FILE)
//   file_event_latency run DIR JOBS N   (N triggers over JOBS jobs; prints each and a summary)
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <string>
#include <vector>

namespace {

long long realtimeNs() {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int stamp(const char* file) {
    const std::string text = std::to_string(realtimeNs()) + "\n";
    const std::string partial = std::string(file) + ".partial";
    std::ofstream(partial) << text;
    return std::rename(partial.c_str(), file) == 0 ? 0 : 1;
}

extern "C" char** environ;

// posix_spawn of `stamp` straight from here: the fork and exec tend cannot avoid.
double floorSample(const char* self, const std::string& dir) {
    const std::string started = dir + "/started-floor";
    ::unlink(started.c_str());
    const long long t0 = realtimeNs();
    char* argv[] = {const_cast<char*>(self), const_cast<char*>("stamp"),
                    const_cast<char*>(started.c_str()), nullptr};
    pid_t pid = 0;
    if (::posix_spawn(&pid, self, nullptr, nullptr, argv, environ) != 0) {
        return -1;
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    long long t1 = 0;
    std::ifstream(started) >> t1;
    return static_cast<double>(t1 - t0) / 1e6;
}

void printSummary(const char* label, std::vector<double> samples) {
    std::sort(samples.begin(), samples.end());
    std::printf("%s: n=%zu median=%.3f ms min=%.3f ms p90=%.3f ms max=%.3f ms\n", label,
                samples.size(), samples[samples.size() / 2], samples.front(),
                samples[samples.size() * 9 / 10], samples.back());
}

int run(const char* self, const std::string& dir, int jobs, int n) {
    std::vector<double> samples;
    for (int i = 0; i < n; ++i) {
        const int job = (i * 7919) % jobs;  // spread over the jobs, not only the first
        const std::string started = dir + "/started-" + std::to_string(job);
        const std::string trigger = dir + "/trigger-" + std::to_string(job);
        ::unlink(started.c_str());
        ::unlink(trigger.c_str());
        usleep(20000);  // the removals' own events pass before the next trigger
        const long long t0 = realtimeNs();
        const int fd = ::open(trigger.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
        if (fd < 0) {
            std::perror(trigger.c_str());
            return 1;
        }
        ::close(fd);
        long long t1 = 0;
        for (int wait = 0; wait < 100000 && t1 == 0; ++wait) {  // up to 10 s
            std::ifstream in(started);
            if (!(in >> t1)) {
                t1 = 0;
                usleep(100);
            }
        }
        if (t1 == 0) {
            std::fprintf(stderr, "file_event_latency: job %d never started\n", job);
            return 1;
        }
        samples.push_back(static_cast<double>(t1 - t0) / 1e6);
    }
    std::vector<double> floor;
    for (int i = 0; i < n; ++i) {
        floor.push_back(floorSample(self, dir));
    }
    const std::string label = "file event -> job start, " + std::to_string(jobs) + " jobs loaded";
    printSummary(label.c_str(), samples);
    printSummary("floor: the harness spawning the same program itself", floor);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc == 3 && std::string(argv[1]) == "stamp") {
        return stamp(argv[2]);
    }
    if (argc == 5 && std::string(argv[1]) == "run") {
        return run(argv[0], argv[2], std::atoi(argv[3]), std::atoi(argv[4]));
    }
    std::fprintf(stderr,
                 "usage: file_event_latency stamp FILE | file_event_latency run DIR JOBS N\n");
    return 2;
}
