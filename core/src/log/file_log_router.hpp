// SPDX-License-Identifier: MIT
// Job output capture into `<log dir>/<job>[-<instance>].log`, on a thread of its own so that a
// slow or full disk never stalls the supervisor's loop.
//
// Each job instance gets two pipes, stdout and stderr, which feed one file. Each stream keeps its
// own order; between the two, lines are in the order tend read them, which keeps a stdout line
// and a stderr line written at the same moment in either order (one pipe for both would keep
// them ordered, but could not tell them apart). Lines are written whole: a partial line waits
// for its newline, up to 64 KiB; a longer one is written in pieces, and a line of the other
// stream that comes between two pieces ends it in the file. The file is created 0600 when the
// first output arrives.
//
// `console journal` output goes to the tap instead while a carrier runs (setCarrier): the file
// gets what the tap does not take, and what the carrier gives back (appendLines). rotate() renames
// it between two writes and reopens (log_rotation.hpp); a file that something else unlinked or
// renamed is noticed at the next write and reopened too. If it cannot be written (disk full,
// permission denied), the router says so once in tend's log, discards output so that the job never
// blocks, and says again when it recovers.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "log/log_rotation.hpp"
#include "log/output_router.hpp"

namespace spdlog {
class logger;
}

namespace tend::log {

class FileLogRouter final : public OutputRouter {
  public:
    FileLogRouter(std::filesystem::path dir, std::shared_ptr<spdlog::logger> logger);
    ~FileLogRouter() override;
    FileLogRouter(const FileLogRouter&) = delete;
    FileLogRouter& operator=(const FileLogRouter&) = delete;

    OutputPipes openOutput(const OutputSpec& spec, std::string& error) override;
    int openLogFile(const OutputSpec& spec, std::string& error) override;

    // Every line written from now on is also handed to `tap` (none: stop). Thread-safe.
    void setTap(OutputTap tap);
    // Whether a carrier of `console journal` output runs, and whether it takes the output of
    // jobs without a console stanza too. Thread-safe.
    void setCarrier(bool present, bool by_default);
    // Appends `lines`, each with its newline, to the log at `path` on the router's thread, as
    // if its job had written them now: carried lines the carrier gave back. Thread-safe.
    void appendLines(std::string path, std::vector<std::string> lines);
    // `tap` hears whenever a job log grows across a multiple of `step` bytes (none: stop).
    // Thread-safe.
    void setGrowthTap(std::uint64_t step, GrowthTap tap);
    // Runs `rename` on the router's thread between two writes to `path` (a file in the log
    // directory, written now or not), makes the next write open a new file there, then calls
    // `done`. Thread-safe.
    void rotate(std::string path, RenameStep rename, RotationDone done);

    void adoptOutput(const OutputSpec& spec, int out_read, int err_read) override;
    // For a re-exec: stops the router's thread once it has written everything the pipes hold
    // (a partial line too, which the next tend's router goes on), and returns every pipe's read
    // end, which stays open. resume() starts the thread again, should the re-exec not happen.
    struct HandedPipe {
        std::string job;
        std::string instance;
        StreamKind stream = StreamKind::Stdout;
        int read_fd = -1;
    };
    std::vector<HandedPipe> pause();
    void resume();

  private:
    struct LogFile;
    struct Pipe;
    struct Rotation;
    struct Growth;
    struct Append {
        std::string path;
        std::vector<std::string> lines;
    };
    void run();
    void takeRequests();
    void drain(Pipe& pipe, bool final);
    void addPipes(const OutputSpec& spec, int out_read, int err_read);
    void flushForHandOver();
    void writeFile(LogFile& file, const void* writer, std::string_view text, bool timestamps);
    bool ensureFile(LogFile& file);

    std::filesystem::path dir_;
    std::shared_ptr<spdlog::logger> logger_;
    int epoll_fd_ = -1;
    int wake_fd_ = -1;
    std::mutex mutex_;
    std::vector<std::unique_ptr<Pipe>> incoming_;
    std::vector<std::unique_ptr<Pipe>> pipes_;
    std::vector<Rotation> rotations_;       // guarded by mutex_
    std::vector<Append> appends_;           // guarded by mutex_
    std::shared_ptr<const OutputTap> tap_;  // guarded by mutex_
    std::shared_ptr<const Growth> growth_;  // guarded by mutex_
    std::unique_ptr<char[]> read_buffer_;   // the router thread's only
    std::atomic<bool> stopping_{false};
    std::atomic<bool> pausing_{false};
    std::atomic<bool> carrier_{false};
    std::atomic<bool> carrier_by_default_{false};
    std::thread thread_;
};

}  // namespace tend::log
