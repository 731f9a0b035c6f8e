// SPDX-License-Identifier: MIT
// Where job output goes. The supervisor asks for one output per job instance (shared by its
// pre-start, main, post-start ... processes and kept across respawns) and hands the returned
// write ends to every process it spawns: one for stdout, one for stderr. The router owns the
// read ends.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace tend::log {

enum class StreamKind : unsigned char { Stdout, Stderr };

struct OutputSpec {
    std::string file_name;  // relative to the log directory
    std::string job;
    std::string instance;
    bool timestamps = false;
    // `console journal`: the output goes to the carrier (journal-logger) while there is one,
    // and to the file only when there is none or it gives lines back.
    bool carried = false;
    // No console stanza: carried too when the carrier takes every such job.
    bool carried_by_default = false;
};

// The two write ends of an instance's output (close-on-exec), or out < 0 when there are none.
struct OutputPipes {
    int out = -1;
    int err = -1;
    // tend is out of file descriptors (EMFILE, ENFILE): it cannot carry output now, but may soon.
    bool out_of_descriptors = false;
};

// Whole lines of one stream of one job instance, without their newlines: what output sinks get.
struct CapturedLines {
    std::string job;
    std::string instance;
    std::chrono::system_clock::time_point time;
    StreamKind stream = StreamKind::Stdout;
    std::vector<std::string> lines;
    // Per line: it goes on in the next (a line over 64 KiB is passed on in pieces). Empty when
    // no line of the batch does.
    std::vector<bool> continues;
    // False when the log file does not have these lines: they are carried (`console journal`).
    bool in_log_file = true;
};

// Called on the router's own thread with each batch of lines; it must not block. It returns
// whether it took the lines: carried lines it did not take go to the log file.
using OutputTap = std::function<bool(CapturedLines&&)>;

class OutputRouter {
  public:
    virtual ~OutputRouter() = default;
    // Returns write fds feeding `<log dir>/<spec.file_name>`, or out = -1 with `error` set. The
    // caller closes them when the instance goes away; the router drains what is left and
    // closes the file once every copy of the write ends is closed.
    virtual OutputPipes openOutput(const OutputSpec& spec, std::string& error) = 0;
    // The log file itself, opened for appending (close-on-exec), for a job that outlives tend
    // (`session linger`): its writes must not end with tend's read end. -1 with `error` set.
    virtual int openLogFile(const OutputSpec& spec, std::string& error) = 0;
    // The read ends of an instance's pipes that an earlier tend opened (a re-exec handed them
    // over), fed to the log as openOutput's would be. The router owns them from now on.
    virtual void adoptOutput(const OutputSpec& spec, int out_read, int err_read) = 0;
};

}  // namespace tend::log
