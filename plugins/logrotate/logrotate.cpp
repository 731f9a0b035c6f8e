// SPDX-License-Identifier: MIT
// logrotate: job logs (and tend's own) that never fill the disk and never lose a line.
//
// A log rotates when it passes its size (tend reports job logs' growth as it writes them) or
// its age (a periodic check), on `tendctl rotate-logs [JOB]`, and on the `rotate-logs` event.
// One rotation of `name.log`: off the loop, older logs move up one (`.1` -> `.2` ...) and what
// passes `keep` goes; then tend's handshake renames `name.log` to `name.log.1` between two
// writes, so the next line starts the new file; then, off the loop again, `.1` is gzipped. A
// step that fails (a full disk, a folder that is not writable) is reported once, leaves the job
// and its log as they are, and is tried again later; it is reported again when it works.
#include <sys/stat.h>

#include <tend/plugin/plugin.hpp>

#include <algorithm>
#include <charconv>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "age_clocks.hpp"
#include "rotated_files.hpp"
#include "rotation_policy.hpp"
#include "worker.hpp"

namespace tend::logrotate {
namespace {

using json = nlohmann::json;
using plugin::PluginHost;
using Clock = std::chrono::system_clock;

// Rotations of one log that may wait for the worker to place them (`setting backlog`). A size
// or age rotation beyond that waits instead: on a machine too busy to compress, a fast writer's
// log grows in one file rather than in thousands of rotated pieces and as many queued tasks.
// Generous, because a piece waits for its fsync too, which a disk busy with the writer's own
// output can hold up for seconds.
constexpr int kDefaultBacklog = 64;

std::string baseName(const std::string& path) {
    return path.substr(path.rfind('/') + 1);
}

// What a batch of rotations (one command, one event) found, reported when the last one ends.
struct Outcome {
    std::vector<std::string> rotated;
    std::vector<std::pair<std::string, std::string>> failed;  // path, error
    int pending = 0;
    std::function<void(const Outcome&)> report;
    void settle() {
        if (--pending == 0 && report) {
            report(*this);
        }
    }
};

class LogRotate final : public plugin::Plugin {
  public:
    explicit LogRotate(PluginHost& host) : host_(host) {}

    void start() override {
        for (const auto& error : applySettings(
                 [this](std::string_view key) { return host_.setting(key); }, defaults_)) {
            host_.log(plugin::LogLevel::Error, error + "; using the default");
        }
        check_interval_ = setting("check-interval", std::chrono::seconds(60));
        retry_interval_ = setting("retry-interval", std::chrono::seconds(60));
        tend_log_ = host_.setting("tend-log", "yes") != "no";
        const std::string backlog = host_.setting("backlog", std::to_string(kDefaultBacklog));
        const auto [end, error] =
            std::from_chars(backlog.data(), backlog.data() + backlog.size(), backlog_);
        if (error != std::errc() || end != backlog.data() + backlog.size() || backlog_ < 1) {
            host_.log(plugin::LogLevel::Error, "setting backlog: invalid '" + backlog +
                                                   "' (a number of rotations, 1 or more); using " +
                                                   std::to_string(kDefaultBacklog));
            backlog_ = kDefaultBacklog;
        }
        worker_ = std::make_unique<Worker>();
        if (const auto carried = host_.carriedState()) {
            const AgeClocks clocks = decodeAgeClocks(*carried);
            for (const auto& [path, since] : clocks) {
                logs_[path].since = since;
            }
            host_.log(plugin::LogLevel::Info, "took the age of " + std::to_string(clocks.size()) +
                                                  " log(s) over from the tend before");
        }
        registrations_.push_back(host_.onReexec([this] {
            AgeClocks clocks;
            for (const auto& [path, state] : logs_) {
                if (state.since != Clock::time_point{}) {
                    clocks[path] = state.since;
                }
            }
            return encodeAgeClocks(clocks);
        }));

        registrations_.push_back(
            host_.addStanza("log rotate", [](const std::vector<std::string>& args) {
                RotationPolicy scratch;
                return applyStanza(args, scratch);
            }));
        registrations_.push_back(
            host_.onJobClass([this](plugin::ClassChange change, const plugin::JobClassView& view) {
                onClass(change, view);
            }));
        registrations_.push_back(host_.serveCommand(
            "rotate-logs", [this](const plugin::CommandCall& call, plugin::CommandResponder reply) {
                rotateCommand(call, std::move(reply));
            }));
        registrations_.push_back(host_.onEvent([this](const plugin::EventView& event) {
            if (event.name == "rotate-logs") {
                rotateOnEvent(event);
            }
        }));
        registrations_.push_back(host_.addTimer(
            check_interval_, [this] { periodicCheck(); }, true));
        updateGrowthWatch();
        repairLeftovers();
    }

    void stop() override {
        registrations_.clear();
        growth_.reset();
        retry_.reset();
        worker_.reset();  // finishes the file operation under way
    }

  private:
    struct LogState {
        bool busy = false;
        std::vector<std::function<void(const std::string&, bool)>> waiters;  // for the next one
        std::string failure;  // what was reported, until it works again
        Clock::time_point since{};
        int unplaced = 0;   // rotated aside, queued on the worker
        bool held = false;  // a size or age rotation waits for the worker
        bool told_held = false;
    };

    std::chrono::seconds setting(std::string_view key, std::chrono::seconds fallback) {
        const std::string text = host_.setting(key);
        if (text.empty()) {
            return fallback;
        }
        const auto parsed = parseAge(text);
        if (!parsed || parsed->count() == 0) {
            host_.log(plugin::LogLevel::Error, "setting " + std::string(key) + ": invalid '" +
                                                   text + "'; using " +
                                                   std::to_string(fallback.count()) + "s");
            return fallback;
        }
        return *parsed;
    }

    // ---- Policies ------------------------------------------------------------------------

    void onClass(plugin::ClassChange change, const plugin::JobClassView& view) {
        if (change == plugin::ClassChange::Removed) {
            policies_.erase(view.name);
            jobs_.erase(view.name);
        } else {
            jobs_.insert(view.name);
            policies_.erase(view.name);
            if (const auto it = view.stanzas.find("log rotate"); it != view.stanzas.end()) {
                RotationPolicy policy = defaults_;
                for (const auto& args : it->second) {
                    applyStanza(args, policy);  // checked when the file was read
                }
                policies_[view.name] = policy;
            }
        }
        updateGrowthWatch();
    }

    const RotationPolicy& policyFor(const std::string& job) const {
        const auto it = policies_.find(job);
        return it == policies_.end() ? defaults_ : it->second;
    }

    // The job a log belongs to: known from its growth, or a job class of the file's name.
    std::string jobOf(const std::string& path) const {
        if (const auto it = path_jobs_.find(path); it != path_jobs_.end()) {
            return it->second;
        }
        std::string name = baseName(path);
        name.resize(name.size() - std::min<std::size_t>(4, name.size()));  // ".log"
        return jobs_.contains(name) ? name : std::string();
    }

    const RotationPolicy& policyForPath(const std::string& path) const {
        return policyFor(jobOf(path));
    }

    // tend reports growth at least every `step` bytes: a sixteenth of the smallest size limit,
    // so that a log passes its limit by little.
    void updateGrowthWatch() {
        std::uint64_t smallest = 0;
        const auto consider = [&](const RotationPolicy& policy) {
            if (policy.enabled && policy.size > 0) {
                smallest = smallest == 0 ? policy.size : std::min(smallest, policy.size);
            }
        };
        consider(defaults_);
        for (const auto& [job, policy] : policies_) {
            consider(policy);
        }
        const std::uint64_t step =
            smallest == 0 ? 0 : std::clamp<std::uint64_t>(smallest / 16, 4096, 1 << 20);
        if (step == growth_step_) {
            return;
        }
        growth_step_ = step;
        growth_ = step == 0 ? plugin::Registration()
                            : host_.onLogGrowth(step, [this](const plugin::LogGrowth& growth) {
                                  onGrowth(growth);
                              });
    }

    void onGrowth(const plugin::LogGrowth& growth) {
        const std::string path(growth.path);
        path_jobs_[path] = std::string(growth.job);
        const RotationPolicy& policy = policyFor(std::string(growth.job));
        if (policy.enabled && policy.size > 0 && growth.size >= policy.size) {
            rotate(path, policy, {});
        }
    }

    // Sizes and ages, including tend's own log, which reports no growth.
    void periodicCheck() {
        std::vector<std::string> paths = liveLogs(host_.logDirectory());
        if (tend_log_ && !host_.tendLogFile().empty()) {
            paths.push_back(host_.tendLogFile());
        }
        const Clock::time_point now = Clock::now();
        for (const auto& path : paths) {
            struct stat st {};
            if (::stat(path.c_str(), &st) != 0 || st.st_size == 0) {
                continue;
            }
            const RotationPolicy& policy = policyForPath(path);
            if (!policy.enabled) {
                continue;
            }
            LogState& state = logs_[path];
            if (state.since == Clock::time_point{}) {
                state.since = now;  // the age counts from when this plugin first saw the log
            }
            const bool too_big =
                policy.size > 0 && static_cast<std::uint64_t>(st.st_size) >= policy.size;
            const bool too_old = policy.age.count() > 0 && now - state.since >= policy.age;
            if (too_big || too_old) {
                rotate(path, policy, {});
            }
        }
    }

    // ---- One rotation --------------------------------------------------------------------

    using Waiter = std::function<void(const std::string&, bool)>;

    // `done(error, rotated)` runs on the loop when the rotation has ended (its log placed and
    // compressed). Only the handshake is waited for: the file work queues on the worker, so a
    // log that outgrows its size again at once rotates again at once.
    void rotate(const std::string& path, const RotationPolicy& policy, Waiter done) {
        LogState& state = logs_[path];
        if (done) {
            state.waiters.push_back(std::move(done));
        }
        if (state.busy) {
            return;  // the handshake under way serves this request too
        }
        if (state.waiters.empty() && state.unplaced >= backlog_) {
            if (!state.held) {
                // Said once at info: on a machine that stays busy a fast log waits again and again.
                host_.log(state.told_held ? plugin::LogLevel::Debug : plugin::LogLevel::Info,
                          path + " waits to rotate: " + std::to_string(state.unplaced) +
                              " rotations of it are still to be placed and compressed");
                state.told_held = true;
            }
            state.held = true;
            return;
        }
        state.busy = true;
        auto waiters = std::make_shared<std::vector<Waiter>>(std::move(state.waiters));
        state.waiters.clear();
        const std::string aside = asideName(path);
        auto renamed = std::make_shared<bool>(false);
        host_.rotateLog(
            path,
            [aside, renamed](const std::string& file) {
                return renameAside(file, aside, *renamed);
            },
            [this, path, aside, keep = policy.keep, compress = policy.compress, renamed,
             waiters](std::string error) {
                LogState& now = logs_[path];
                now.busy = false;
                if (!error.empty() || !*renamed) {
                    settle(path, error, false, *waiters);
                    serveLateWaiters(path);
                    return;
                }
                now.since = Clock::now();
                ++now.unplaced;
                worker_->run([this, path, aside, keep, compress, waiters] {
                    const std::string failed = placeRotation(path, aside, keep, compress);
                    host_.post([this, path, failed, waiters] {
                        --logs_[path].unplaced;
                        settle(path, failed, true, *waiters);
                        resumeHeld(path);
                    });
                });
                serveLateWaiters(path);
            });
    }

    // A log that waited for the worker rotates as soon as it may, if it is still too big.
    void resumeHeld(const std::string& path) {
        LogState& state = logs_[path];
        if (!state.held || state.unplaced >= backlog_) {
            return;
        }
        state.held = false;
        const RotationPolicy& policy = policyForPath(path);
        struct stat st {};
        if (policy.enabled && policy.size > 0 && ::stat(path.c_str(), &st) == 0 &&
            static_cast<std::uint64_t>(st.st_size) >= policy.size) {
            rotate(path, policy, {});
        }
    }

    // Requests that came during a handshake want a rotation of their own.
    void serveLateWaiters(const std::string& path) {
        LogState& state = logs_[path];
        if (state.waiters.empty()) {
            return;
        }
        auto waiters = std::move(state.waiters);
        state.waiters.clear();
        const RotationPolicy policy = policyForPath(path);
        for (auto& waiter : waiters) {
            rotate(path, policy, std::move(waiter));
        }
    }

    void settle(const std::string& path, const std::string& error, bool rotated,
                const std::vector<Waiter>& waiters) {
        LogState& state = logs_[path];
        if (!error.empty() && state.failure.empty()) {
            host_.log(plugin::LogLevel::Error,
                      "cannot rotate " + path + ": " + error +
                          "; the job keeps running and nothing is deleted; trying again every " +
                          std::to_string(retry_interval_.count()) + "s");
            armRetry();
        } else if (!error.empty()) {
            host_.log(plugin::LogLevel::Debug, "still cannot rotate " + path + ": " + error);
        } else if (!state.failure.empty() && rotated) {
            host_.log(plugin::LogLevel::Info, "rotating " + path + " works again");
        }
        if (!error.empty() || rotated) {
            state.failure = error;
        }
        for (const auto& waiter : waiters) {
            waiter(error, rotated);
        }
    }

    // ---- Failures ------------------------------------------------------------------------

    void armRetry() {
        if (retry_) {
            return;
        }
        retry_ = host_.addTimer(
            retry_interval_,
            [this] {
                retry_.reset();
                retryFailed();
            },
            false);
    }

    void retryFailed() {
        bool any = false;
        for (auto& [path, state] : logs_) {
            if (state.failure.empty() || state.busy) {
                continue;
            }
            any = true;
            const RotationPolicy& policy = policyForPath(path);
            repair(path, policy);
            struct stat st {};
            const bool due = ::stat(path.c_str(), &st) == 0 && policy.size > 0 &&
                             static_cast<std::uint64_t>(st.st_size) >= policy.size;
            if (due) {
                rotate(path, policy, {});
            }
        }
        if (any) {
            armRetry();  // until every failure has cleared
        }
    }

    // What a failed step (or a tend that ended during one) left: logs put aside but not
    // placed, and rotated logs not compressed. Placed and compressed now, in order.
    void repair(const std::string& path, const RotationPolicy& policy) {
        worker_->run([this, path, keep = policy.keep, compress = policy.compress] {
            std::string error;
            for (const auto& aside : asideRotations(path.substr(0, path.rfind('/')))) {
                if (aside.starts_with(path + ".rotating-")) {
                    error = placeRotation(path, aside, keep, compress);
                    if (!error.empty()) {
                        break;
                    }
                }
            }
            for (int n = 1; compress && error.empty() && n <= keep; ++n) {
                const std::string plain = rotatedName(path, n, false);
                struct stat st {};
                if (::stat(plain.c_str(), &st) == 0) {
                    error = compressFile(plain);
                }
            }
            host_.post([this, path, error] {
                LogState& state = logs_[path];
                if (!error.empty()) {
                    host_.log(plugin::LogLevel::Debug,
                              "still cannot rotate " + path + ": " + error);
                } else if (!state.failure.empty()) {
                    host_.log(plugin::LogLevel::Info, "rotating " + path + " works again");
                    state.failure.clear();
                }
            });
        });
    }

    // At start: what an earlier tend left.
    void repairLeftovers() {
        std::set<std::string> bases;
        const std::string dir = host_.logDirectory();
        for (const auto& plain : uncompressedRotations(dir)) {
            bases.insert(plain.substr(0, plain.rfind('.')));
        }
        for (const auto& aside : asideRotations(dir)) {
            bases.insert(aside.substr(0, aside.rfind(".rotating-")));
        }
        for (const auto& path : bases) {
            repair(path, policyForPath(path));
        }
    }

    // ---- Commands and the event ----------------------------------------------------------

    // The live logs of `job` (every log when empty), or nullopt when no such job has a log.
    std::vector<std::string> logsOf(const std::string& job) const {
        std::vector<std::string> paths;
        if (job.empty()) {
            paths = liveLogs(host_.logDirectory());
            if (tend_log_ && !host_.tendLogFile().empty()) {
                paths.push_back(host_.tendLogFile());
            }
            return paths;
        }
        paths.push_back(host_.logFile(job));
        for (const auto& [path, owner] : path_jobs_) {
            if (owner == job && path != paths.front()) {
                paths.push_back(path);
            }
        }
        return paths;
    }

    // Rotates every log in `paths` whose job does not say `log rotate off` (unless `forced`).
    void rotateAll(const std::vector<std::string>& paths, bool forced,
                   std::function<void(const Outcome&)> report) {
        auto outcome = std::make_shared<Outcome>();
        outcome->report = std::move(report);
        outcome->pending = 1;  // until every rotation is under way
        for (const auto& path : paths) {
            const RotationPolicy& policy = policyForPath(path);
            if (!policy.enabled && !forced) {
                continue;
            }
            ++outcome->pending;
            rotate(path, policy, [outcome, path](const std::string& error, bool rotated) {
                if (!error.empty()) {
                    outcome->failed.emplace_back(path, error);
                } else if (rotated) {
                    outcome->rotated.push_back(path);
                }
                outcome->settle();
            });
        }
        outcome->settle();
    }

    void rotateCommand(const plugin::CommandCall& call, plugin::CommandResponder reply) {
        if (call.args.size() > 1) {
            reply({false, "rotate-logs: too many arguments (usage: rotate-logs [JOB])", "{}"});
            return;
        }
        const std::string job = call.args.empty() ? std::string() : call.args[0];
        if (!job.empty() && !jobs_.contains(job)) {
            struct stat st {};
            if (::stat(host_.logFile(job).c_str(), &st) != 0) {
                reply({false, "rotate-logs: Unknown job: " + job, "{}"});
                return;
            }
        }
        rotateAll(logsOf(job), !job.empty(), [reply = std::move(reply)](const Outcome& outcome) {
            std::string text;
            json rotated = json::array();
            json failed = json::array();
            for (const auto& path : outcome.rotated) {
                text += "rotated " + path + "\n";
                rotated.push_back(path);
            }
            for (const auto& [path, error] : outcome.failed) {
                text += "cannot rotate " + path + ": " + error + "\n";
                failed.push_back({{"path", path}, {"error", error}});
            }
            if (text.empty()) {
                text = "nothing to rotate: the logs are empty\n";
            }
            text.pop_back();
            const json data{{"rotated", rotated}, {"failed", failed}};
            reply({outcome.failed.empty(), text,
                   data.dump(-1, ' ', false, json::error_handler_t::replace)});
        });
    }

    void rotateOnEvent(const plugin::EventView& event) {
        // The emitter (`tendctl emit rotate-logs`) waits until the logs have rotated.
        auto hold = std::make_shared<plugin::Registration>(host_.holdEvent(event.id));
        const std::string job(event.get("JOB"));
        rotateAll(logsOf(job), false, [hold](const Outcome&) { hold->reset(); });
    }

    PluginHost& host_;
    RotationPolicy defaults_;
    std::chrono::seconds check_interval_{60};
    std::chrono::seconds retry_interval_{60};
    bool tend_log_ = true;
    int backlog_ = kDefaultBacklog;
    std::map<std::string, RotationPolicy> policies_;  // jobs with a `log rotate` stanza
    std::set<std::string> jobs_;                      // every job class
    std::map<std::string, std::string> path_jobs_;    // log path -> its job
    std::map<std::string, LogState> logs_;
    std::uint64_t growth_step_ = 0;
    plugin::Registration growth_;
    plugin::Registration retry_;
    std::vector<plugin::Registration> registrations_;
    std::unique_ptr<Worker> worker_;
};

std::unique_ptr<plugin::Plugin> makeLogRotate(PluginHost& host) {
    return std::make_unique<LogRotate>(host);
}

}  // namespace
}  // namespace tend::logrotate

TEND_PLUGIN("logrotate", "1.0", "", "", "", tend::logrotate::makeLogRotate)
