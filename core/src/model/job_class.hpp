// SPDX-License-Identifier: MIT
// JobClass: the validated definition read from one job file plus its `.override`.
//
// It is a plain value. Loading a file builds one; a rescan builds a new one and compares it with
// the old (operator== is structural and ignores source positions), and the canonical printer
// writes one back as text that parses to an equal value. Running instances (Job) keep the
// JobClass they were started from, which is how a changed file leaves a running job alone until
// it stops.
#pragma once

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "model/sparse_value.hpp"
#include "tend/grammar/event_expr.hpp"

namespace tend::model {

enum class ProcessType : std::uint8_t { Main, PreStart, PostStart, PreStop, PostStop };
inline constexpr std::size_t kProcessTypeCount = 5;
inline constexpr std::array<ProcessType, kProcessTypeCount> kProcessTypes = {
    ProcessType::Main, ProcessType::PreStart, ProcessType::PostStart, ProcessType::PreStop,
    ProcessType::PostStop};
// "main", "pre-start", ... as Upstart names them in PROCESS=.
std::string_view processTypeName(ProcessType type);

struct Process {
    bool script = false;  // a `script` block run by `/bin/sh -e`, else an `exec` command line
    std::string command;  // the raw exec text, or the script body
    friend bool operator==(const Process&, const Process&) = default;
};

// The processes a job defines, in ProcessType order. Most define only the main one, so only
// what is set is held: an array of five optional processes cost 240 bytes a job.
class ProcessTable {
  public:
    const Process* find(ProcessType type) const {
        for (const auto& [held, process] : entries_) {
            if (held == type) {
                return &process;
            }
        }
        return nullptr;
    }
    void set(ProcessType type, Process process) {
        auto it = entries_.begin();
        while (it != entries_.end() && it->first < type) {
            ++it;
        }
        if (it != entries_.end() && it->first == type) {
            it->second = std::move(process);
        } else {
            entries_.emplace(it, type, std::move(process));
        }
    }
    friend bool operator==(const ProcessTable&, const ProcessTable&) = default;

  private:
    std::vector<std::pair<ProcessType, Process>> entries_;
};

enum class Expect : std::uint8_t { None, Stop, Daemon, Fork, Notify };
// Default is `console log` (no console stanza), which a carrier of `console journal` output may
// take over (`setting console journal` in journal-logger.conf); Journal hands the output to that
// carrier, the log file being its fallback.
enum class Console : std::uint8_t { Default, Log, None, Output, Owner, Journal };
// Whether tend reads the output (into the log file, or for a carrier).
constexpr bool capturesOutput(Console console) {
    return console == Console::Default || console == Console::Log || console == Console::Journal;
}

std::string_view expectName(Expect expect);
std::string_view consoleName(Console console);

// An entry of `normal exit`: an exit status, or a signal that killed the process.
struct NormalExit {
    bool signal = false;
    int value = 0;
    friend bool operator==(const NormalExit&, const NormalExit&) = default;
};

struct EnvEntry {
    std::string name;
    std::optional<std::string> value;  // `env NAME` copies the variable from tend's environment
    friend bool operator==(const EnvEntry&, const EnvEntry&) = default;
};

inline constexpr std::uint64_t kUnlimited = ~std::uint64_t{0};

struct ResourceLimit {
    std::uint64_t soft = kUnlimited;
    std::uint64_t hard = kUnlimited;
    friend bool operator==(const ResourceLimit&, const ResourceLimit&) = default;
};

struct CgroupSetting {
    std::string controller;
    std::string name;  // `$UPSTART_CGROUP` unless given
    std::string key;   // empty when the stanza only names the cgroup
    std::string value;
    friend bool operator==(const CgroupSetting&, const CgroupSetting&) = default;
};

inline constexpr std::string_view kDefaultCgroupName = "$UPSTART_CGROUP";

// The stanzas few jobs use, kept out of line: a job without any of them pays one pointer for
// them all, not their 480 bytes (a third of a class; 1,000 jobs are 1,000 classes).
struct SeldomStanzas {
    std::optional<std::string> author;
    std::optional<std::string> version;
    std::optional<std::string> usage;
    std::optional<std::string> chdir;
    std::optional<std::string> chroot;
    std::optional<std::string> setuid;
    std::optional<std::string> setgid;
    std::optional<std::string> apparmor_load;
    std::optional<std::string> apparmor_switch;
    std::vector<CgroupSetting> cgroups;
    std::map<int, ResourceLimit> limits;  // keyed by RLIMIT_*
    // Stanzas that plugins registered: keyword -> the arguments of each occurrence, in order.
    std::map<std::string, std::vector<std::vector<std::string>>> plugin_stanzas;
    friend bool operator==(const SeldomStanzas&, const SeldomStanzas&) = default;
};

struct JobClass {
    std::string name;  // path below the job directory without `.conf`: `net/apache`

    std::optional<std::string> description;
    std::string instance;  // template, expanded with the start environment
    std::optional<grammar::EventCondition> start_on;
    std::optional<grammar::EventCondition> stop_on;
    std::vector<std::string> emits;

    ProcessTable processes;
    std::vector<EnvEntry> env;
    std::vector<std::string> exports;

    bool task = false;
    bool respawn = false;
    unsigned respawn_limit = 10;  // 0 in either field means no limit
    unsigned respawn_interval = 5;
    // Beyond Upstart: the wait before each respawn, doubling per consecutive quick crash up to
    // `max`. Unset means Upstart's behaviour (no wait) while a respawn limit is in force, and a
    // 100 ms .. 30 s back-off when the limit is off, so that a crash loop never spins.
    struct RespawnDelay {
        std::uint32_t initial_ms = 0;
        std::uint32_t max_ms = 0;
        friend bool operator==(const RespawnDelay&, const RespawnDelay&) = default;
    };
    std::optional<RespawnDelay> respawn_delay;
    std::vector<NormalExit> normal_exit;
    Expect expect = Expect::None;

    int kill_signal = 15;  // SIGTERM
    unsigned kill_timeout = 5;
    // Beyond Upstart: how long `expect notify` waits for READY=1 (then the start fails), and how
    // long `expect fork|daemon` waits for the forks before tracking what is there.
    std::uint32_t start_timeout_ms = 30000;
    bool log_timestamps = false;  // `log timestamp`: prefix each captured line with the time
    int reload_signal = 1;        // SIGHUP

    Console console = Console::Default;
    std::optional<mode_t> umask;
    std::optional<int> nice;
    std::optional<int> oom_score;  // -1000..1000; legacy `oom N` is scaled into this range
    bool debug = false;
    // `session linger`: the job outlives the session. tend does not stop it at the session's
    // end, writes its output straight to its log file (no pipe that ends with tend), and the
    // next tend leaves its processes alone.
    bool session_linger = false;
    SparseValue<SeldomStanzas> seldom;

    const Process* process(ProcessType type) const { return processes.find(type); }

    friend bool operator==(const JobClass&, const JobClass&) = default;
};

}  // namespace tend::model
