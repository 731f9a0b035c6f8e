// SPDX-License-Identifier: MIT
// Job output capture into `<log dir>/<job>[-<instance>].log`, on a thread of its own so that a
// slow or full disk never stalls the supervisor's loop.
//
// Each job instance gets one pipe; stdout and stderr share it, so the file holds one ordered
// stream. Lines are written whole: a partial line waits for its newline (up to 64 KiB). The file
// is created 0600 when the first output arrives. rotate() renames it between two writes and
// reopens (log_rotation.hpp); a file that something else unlinked or renamed is noticed at the
// next write and reopened too. If it cannot be written (disk full, permission denied), the router
// says so once in tend's log, discards output so that the job never blocks, and says again when it
// recovers.
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

    int openOutput(const OutputSpec& spec, std::string& error) override;

    // Every line written from now on is also handed to `tap` (none: stop). Thread-safe.
    void setTap(OutputTap tap);
    // `tap` hears whenever a job log grows across a multiple of `step` bytes (none: stop).
    // Thread-safe.
    void setGrowthTap(std::uint64_t step, GrowthTap tap);
    // Runs `rename` on the router's thread between two writes to `path` (a file in the log
    // directory, written now or not), makes the next write open a new file there, then calls
    // `done`. Thread-safe.
    void rotate(std::string path, RenameStep rename, RotationDone done);

  private:
    struct Stream;
    struct Rotation;
    struct Growth;
    void run();
    void takeRequests();
    void drain(Stream& stream, bool final);
    void writeOut(Stream& stream, const char* data, std::size_t size, CapturedLines* tapped);
    bool ensureFile(Stream& stream);

    std::filesystem::path dir_;
    std::shared_ptr<spdlog::logger> logger_;
    int epoll_fd_ = -1;
    int wake_fd_ = -1;
    std::mutex mutex_;
    std::vector<std::unique_ptr<Stream>> incoming_;
    std::vector<std::unique_ptr<Stream>> streams_;
    std::vector<Rotation> rotations_;       // guarded by mutex_
    std::shared_ptr<const OutputTap> tap_;  // guarded by mutex_
    std::shared_ptr<const Growth> growth_;  // guarded by mutex_
    std::unique_ptr<char[]> read_buffer_;   // the router thread's only
    std::atomic<bool> stopping_{false};
    std::thread thread_;
};

}  // namespace tend::log
