// SPDX-License-Identifier: MIT
// A well-behaved plugin that exercises the host: events in and out, a held event, job classes,
// a timer, a control command, a service, a setting, a job-file stanza, an output sink and a
// carrier of `console journal` output.
#include <sys/socket.h>
#include <unistd.h>

#include <tend/plugin/plugin.hpp>

#include <chrono>
#include <map>
#include <set>
#include <thread>

namespace {

using namespace tend::plugin;

struct EchoService {
    std::string greet(const std::string& who) const { return "hello " + who; }
};

class Echo final : public Plugin {
  public:
    explicit Echo(PluginHost& host) : host_(host) {}

    void start() override {
        // The pings counted so far go on across a re-exec.
        if (const auto carried = host_.carriedState()) {
            pings_ = std::stoul(*carried);
        }
        registrations_.push_back(host_.onReexec([this] { return std::to_string(pings_); }));
        registrations_.push_back(
            host_.addCommand("echo-pings", [this](const std::vector<std::string>&) {
                return CommandReply{true, std::to_string(pings_), "{}"};
            }));
        registrations_.push_back(host_.onEvent([this](const EventView& event) {
            if (event.name == "ping") {
                // Answers every ping with a pong carrying the same variables.
                ++pings_;
                host_.emit("pong", *event.env);
            } else if (event.name == "hold-me") {
                // Keeps the event (and whoever emitted it) waiting for 300 ms.
                auto hold = std::make_shared<Registration>(host_.holdEvent(event.id));
                holds_.push_back(
                    host_.addTimer(std::chrono::milliseconds(300), [hold] { hold->reset(); }));
            } else if (event.name == "hold-past-stop") {
                // Held until the plugin stops; then by work it posts that never gets to run.
                held_past_stop_ = std::make_shared<Registration>(host_.holdEvent(event.id));
                host_.log(LogLevel::Info, "holding hold-past-stop");
            }
        }));
        registrations_.push_back(
            host_.onJobClass([this](ClassChange change, const JobClassView& view) {
                if (change == ClassChange::Removed) {
                    classes_.erase(view.name);
                } else {
                    classes_.insert(view.name);
                }
                for (const auto* match : view.matchesFor("file")) {
                    last_file_match_ =
                        view.name + ":" + (match->args.empty() ? "" : match->args[0].value);
                }
                greetings_.erase(view.name);
                if (const auto it = view.stanzas.find("greeting");
                    change != ClassChange::Removed && it != view.stanzas.end()) {
                    greetings_[view.name] = it->second.back().front();
                }
            }));
        // `greeting WORD`: one word, not "nobody".
        registrations_.push_back(
            host_.addStanza("greeting", [](const std::vector<std::string>& args) -> std::string {
                if (args.size() != 1) {
                    return "takes exactly one word";
                }
                return args[0] == "nobody" ? "nobody is not a greeting" : "";
            }));
        registrations_.push_back(
            host_.addCommand("echo-greetings", [this](const std::vector<std::string>&) {
                CommandReply reply;
                for (const auto& [job, word] : greetings_) {
                    reply.text += (reply.text.empty() ? "" : " ") + job + "=" + word;
                }
                return reply;
            }));
        // Remembers the last lines each job wrote; `tendctl echo-output JOB` prints them, and
        // `echo-output-count JOB` how many there were. With `setting sink-hold-file PATH` the
        // first batch waits until PATH exists (10 s at most): a sink that has fallen behind,
        // while the job's output goes on piling up in the host.
        registrations_.push_back(host_.addOutputSink(
            [this, hold = host_.setting("sink-hold-file", "")](const OutputLines& batch) mutable {
                for (int waited = 0; !hold.empty() && waited < 2000; ++waited) {
                    if (::access(hold.c_str(), F_OK) == 0) {
                        break;
                    }
                    std::this_thread::sleep_for(std::chrono::milliseconds(5));
                }
                hold.clear();
                const std::string job(batch.job);
                counts_[job] += batch.lines->size();
                // Stream, piece and whereabouts of each line: `1 5 hello`, `2+65536 aaa...`
                // (stderr, a piece that goes on), `1 5 hello carried` (not in the log file).
                auto& tagged = streams_[job];
                for (std::size_t i = 0; i < batch.lines->size(); ++i) {
                    const std::string& line = (*batch.lines)[i];
                    tagged.push_back(std::string(batch.stream == OutputStream::Stderr ? "2" : "1") +
                                     (batch.continuesAt(i) ? "+" : " ") +
                                     std::to_string(line.size()) + " " + line.substr(0, 20) +
                                     (batch.in_log_file ? "" : " carried"));
                }
                if (tagged.size() > 100) {
                    tagged.erase(tagged.begin(), tagged.end() - 100);
                }
                // `setting carry-give-back yes`: a carrier that cannot pass lines on.
                if (!batch.in_log_file && host_.setting("carry-give-back") == "yes") {
                    host_.writeJobLog(batch.job, batch.instance, *batch.lines);
                }
                auto& seen = output_[std::string(batch.job)];
                const auto& lines = *batch.lines;
                // Only the last 100 can stay: copying a whole batch of a flood costs the loop.
                const std::size_t from = lines.size() > 100 ? lines.size() - 100 : 0;
                seen.insert(seen.end(), lines.begin() + static_cast<std::ptrdiff_t>(from),
                            lines.end());
                if (seen.size() > 100) {
                    seen.erase(seen.begin(), seen.end() - 100);
                }
            }));
        registrations_.push_back(
            host_.addCommand("echo-output", [this](const std::vector<std::string>& args) {
                CommandReply reply;
                if (args.size() != 1) {
                    reply.ok = false;
                    reply.text = "usage: echo-output JOB";
                    return reply;
                }
                for (const auto& line : output_[args[0]]) {
                    reply.text += line + "\n";
                }
                if (!reply.text.empty()) {
                    reply.text.pop_back();
                }
                return reply;
            }));
        registrations_.push_back(
            host_.addCommand("echo-streams", [this](const std::vector<std::string>& args) {
                CommandReply reply;
                for (const auto& line : streams_[args.empty() ? "" : args[0]]) {
                    reply.text += line + "\n";
                }
                if (!reply.text.empty()) {
                    reply.text.pop_back();  // tendctl ends what it prints with a newline
                }
                return reply;
            }));
        // `setting carry journal` (or `default`): carries `console journal` output (and that of
        // jobs without a console stanza).
        if (const std::string carry = host_.setting("carry"); !carry.empty()) {
            registrations_.push_back(host_.carryJournalConsole(carry == "default"));
        }
        registrations_.push_back(
            host_.addCommand("echo-output-count", [this](const std::vector<std::string>& args) {
                CommandReply reply;
                reply.text = std::to_string(args.size() == 1 ? counts_[args[0]] : 0);
                return reply;
            }));
        registrations_.push_back(
            host_.addCommand("echo", [this](const std::vector<std::string>& args) {
                CommandReply reply;
                for (const auto& arg : args) {
                    reply.text += (reply.text.empty() ? "" : " ") + arg;
                }
                reply.text = host_.setting("prefix", "") + reply.text;
                return reply;
            }));
        registrations_.push_back(
            host_.addCommand("echo-classes", [this](const std::vector<std::string>&) {
                CommandReply reply;
                for (const auto& name : classes_) {
                    reply.text += (reply.text.empty() ? "" : " ") + name;
                }
                if (!last_file_match_.empty()) {
                    reply.text += " file=" + last_file_match_;
                }
                return reply;
            }));
        // API 2: who called, answers that come later or never, and expansion.
        registrations_.push_back(host_.serveCommand("echo-caller", [](const CommandCall& call,
                                                                      CommandResponder reply) {
            reply(CommandReply{
                true,
                "uid=" + std::to_string(call.uid) + " pid=" + std::to_string(call.pid) + " job=" +
                    call.job + " instance=" + call.instance + " json=" + (call.json ? "yes" : "no"),
                "{}"});
        }));
        registrations_.push_back(host_.serveCommand(
            "echo-later", [this](const CommandCall& call, CommandResponder reply) {
                later_.push_back(
                    host_.addTimer(std::chrono::milliseconds(100), [reply, args = call.args] {
                        reply(CommandReply{true, "later " + (args.empty() ? "" : args[0]), "{}"});
                    }));
            }));
        registrations_.push_back(
            host_.serveCommand("echo-never", [](const CommandCall&, CommandResponder) {}));
        registrations_.push_back(
            host_.addCommand("echo-expand", [this](const std::vector<std::string>& args) {
                CommandReply reply;
                for (const auto& arg : args) {
                    const auto expanded = host_.expand(arg);
                    reply.text += (reply.text.empty() ? "" : "|") + expanded.value_or("(unset)");
                }
                return reply;
            }));
        // Job changes, from the moment this is asked for: instances that exist are replayed.
        registrations_.push_back(
            host_.addCommand("echo-watch-jobs", [this](const std::vector<std::string>&) {
                job_watch_ = host_.onJobChange([this](const JobChange& change) {
                    job_changes_.push_back(
                        std::string(change.job) + " goal " + std::string(change.previous_goal) +
                        "->" + std::string(change.goal) + " state " +
                        std::string(change.previous_state) + "->" + std::string(change.state));
                });
                return CommandReply{};
            }));
        registrations_.push_back(
            host_.addCommand("echo-job-changes", [this](const std::vector<std::string>&) {
                CommandReply reply;
                for (const auto& line : job_changes_) {
                    reply.text += (reply.text.empty() ? "" : "\n") + line;
                }
                return reply;
            }));
        // A socket pair's end watched for Readable|Writable: Writable fires once until asked
        // again, Readable whenever the other end writes.
        registrations_.push_back(
            host_.addCommand("echo-fd", [this](const std::vector<std::string>& args) {
                const std::string what = args.empty() ? "" : args[0];
                if (what == "start" && pair_[0] < 0) {
                    ::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, pair_);
                    fd_watch_ =
                        host_.watchFd(pair_[0], PluginHost::Readable | PluginHost::Writable,
                                      [this](unsigned which) {
                                          if (which == PluginHost::Writable) {
                                              ++writable_;
                                              return;
                                          }
                                          char buffer[64];
                                          while (::read(pair_[0], buffer, sizeof buffer) > 0) {
                                          }
                                          ++readable_;
                                      });
                } else if (what == "poke") {
                    [[maybe_unused]] auto n = ::write(pair_[1], "x", 1);
                } else if (what == "want-write") {
                    host_.updateFdWatch(pair_[0], PluginHost::Readable | PluginHost::Writable);
                }
                return CommandReply{true,
                                    "writable=" + std::to_string(writable_) +
                                        " readable=" + std::to_string(readable_),
                                    "{}"};
            }));
        registrations_.push_back(host_.provideService("echo", &service_));
        host_.log(LogLevel::Info, "echo started");
    }

    void stop() override {
        host_.log(LogLevel::Info, "echo stopping");
        if (held_past_stop_) {
            // A worker's completion, posted as it winds down: it still holds the event when
            // the plugin is unloaded in this same turn of the loop.
            host_.post([hold = std::move(held_past_stop_)] { hold->reset(); });
        }
        fd_watch_.reset();
        for (int fd : pair_) {
            if (fd >= 0) {
                ::close(fd);
            }
        }
    }

  private:
    PluginHost& host_;
    unsigned long pings_ = 0;
    EchoService service_;
    std::set<std::string> classes_;
    Registration job_watch_;
    int pair_[2] = {-1, -1};
    Registration fd_watch_;
    int writable_ = 0;
    int readable_ = 0;
    std::vector<std::string> job_changes_;
    std::string last_file_match_;
    std::map<std::string, std::string> greetings_;
    std::map<std::string, std::vector<std::string>> output_;
    std::map<std::string, std::size_t> counts_;
    std::map<std::string, std::vector<std::string>> streams_;
    std::vector<Registration> registrations_;
    std::vector<Registration> holds_;
    std::shared_ptr<Registration> held_past_stop_;
    std::vector<Registration> later_;
};

std::unique_ptr<Plugin> makeEcho(PluginHost& host) {
    return std::make_unique<Echo>(host);
}

}  // namespace

TEND_PLUGIN("echo", "1.2.3", "", "", "echo", makeEcho)
