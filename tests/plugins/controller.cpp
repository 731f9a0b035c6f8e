// SPDX-License-Identifier: MIT
// A plugin that uses what the host offers about tend as a whole: control commands run through
// the command table, the instances there are, job changes with how the main process ended, and
// tend's own log.
#include <tend/plugin/plugin.hpp>

#include <deque>
#include <string>
#include <vector>

namespace {

using namespace tend::plugin;

std::string joined(const std::deque<std::string>& lines) {
    std::string out;
    for (const auto& line : lines) {
        out += (out.empty() ? "" : "\n") + line;
    }
    return out;
}

class Controller final : public Plugin {
  public:
    explicit Controller(PluginHost& host) : host_(host) {}

    void start() override {
        // `tendctl ctl-run [--no-wait] COMMAND ARGS...`: the reply, as three lines: ok or
        // error, the text, the JSON.
        registrations_.push_back(host_.serveCommand("ctl-run", [this](const CommandCall& call,
                                                                      CommandResponder reply) {
            std::vector<std::string> args = call.args;
            std::string options = "{}";
            if (!args.empty() && args.front() == "--no-wait") {
                options = R"({"no_wait": true})";
                args.erase(args.begin());
            }
            if (args.empty()) {
                reply({false, "usage: ctl-run [--no-wait] COMMAND ARGS...", "{}"});
                return;
            }
            const std::string command = args.front();
            args.erase(args.begin());
            host_.runControlCommand(command, args, options, [reply](const CommandReply& answer) {
                reply({true,
                       std::string(answer.ok ? "ok" : "error") + "\n" + answer.text + "\n" +
                           answer.json,
                       "{}"});
            });
        }));
        registrations_.push_back(
            host_.addCommand("ctl-instances", [this](const std::vector<std::string>&) {
                std::deque<std::string> lines;
                for (const auto& i : host_.instances()) {
                    lines.push_back(i.job + " (" + i.instance + ") " + i.goal + "/" + i.state +
                                    " pid=" + std::to_string(i.main_pid) + " respawns=" +
                                    std::to_string(i.respawns) + " exit=" + i.last_exit +
                                    " code=" + std::to_string(i.exit_code) +
                                    " failed=" + (i.failed ? "yes: " + i.failure_reason : "no"));
                }
                return CommandReply{true, joined(lines), "{}"};
            }));
        // Job changes into a state, with how the main process last ended.
        registrations_.push_back(host_.onJobChange([this](const JobChange& c) {
            if (c.state == c.previous_state) {
                return;
            }
            changes_.push_back(
                std::string(c.job) + " " + std::string(c.state) +
                " exit=" + std::string(c.last_exit) + " code=" + std::to_string(c.exit_code) +
                " failed=" + (c.failed ? "yes: " + std::string(c.failure_reason) : "no"));
        }));
        registrations_.push_back(
            host_.addCommand("ctl-changes", [this](const std::vector<std::string>&) {
                return CommandReply{true, joined(changes_), "{}"};
            }));
        // tend's own log; a line that says `feed-me` makes the sink log a line of its own, which
        // must not come back to it.
        registrations_.push_back(host_.onTendLog([this](const TendLogLine& line) {
            log_.push_back(std::to_string(line.level) + " " + std::string(line.text));
            if (log_.size() > 500) {
                log_.pop_front();
            }
            if (std::string_view(line.text).find("feed-me") != std::string_view::npos) {
                host_.log(LogLevel::Info, "fed back by the log sink");
            }
        }));
        registrations_.push_back(
            host_.addCommand("ctl-log", [this](const std::vector<std::string>&) {
                return CommandReply{true, joined(log_), "{}"};
            }));
    }

  private:
    PluginHost& host_;
    std::deque<std::string> changes_;
    std::deque<std::string> log_;
    std::vector<Registration> registrations_;
};

std::unique_ptr<Plugin> make(PluginHost& host) {
    return std::make_unique<Controller>(host);
}

}  // namespace

TEND_PLUGIN("controller", "1.0", "", "", "", make)
