// SPDX-License-Identifier: MIT
#include "daemon/saved_state_json.hpp"

#include <chrono>
#include <cstdint>
#include <limits>
#include <stdexcept>

#include <nlohmann/json.hpp>

namespace tend::daemon {

using json = nlohmann::json;

namespace {

constexpr const char* kFormat = "tend-saved-state";

// An integer of type T, whatever JSON number it is written as: a float or a value out of T's
// range is an error, not a conversion.
template <class T>
T integer(const json& value) {
    if (value.is_number_unsigned()) {
        const auto number = value.get<std::uint64_t>();
        if (number <= static_cast<std::uint64_t>(std::numeric_limits<T>::max())) {
            return static_cast<T>(number);
        }
    } else if (value.is_number_integer()) {
        const auto number = value.get<std::int64_t>();
        if (number >= static_cast<std::int64_t>(std::numeric_limits<T>::min()) &&
            (number < 0 || static_cast<std::uint64_t>(number) <=
                               static_cast<std::uint64_t>(std::numeric_limits<T>::max()))) {
            return static_cast<T>(number);
        }
    } else {
        throw std::invalid_argument("not an integer: " + value.dump().substr(0, 40));
    }
    throw std::out_of_range("out of range: " + value.dump());
}

template <class Enum>
Enum enumFrom(const json& value, Enum last) {
    const int number = integer<int>(value);
    if (number < 0 || number > static_cast<int>(last)) {
        throw std::out_of_range("enumeration value " + std::to_string(number) + " out of range");
    }
    return static_cast<Enum>(number);
}

std::vector<std::string> entriesFrom(const json& value) {
    std::vector<std::string> out;
    for (const auto& item : value) {
        const std::string& entry = item.get_ref<const std::string&>();
        if (entry.find('=') == std::string::npos || entry.front() == '=') {
            throw std::invalid_argument("not a KEY=VALUE entry: " + entry.substr(0, 40));
        }
        out.push_back(entry);
    }
    return out;
}

int descriptorFrom(const json& value) {
    const int fd = integer<int>(value);
    if (fd < -1) {
        throw std::out_of_range("descriptor " + std::to_string(fd));
    }
    return fd;
}

json originJson(const dispatch::VariableOrigin& origin) {
    return json{{"kind", origin.kind},
                {"detail", origin.detail},
                {"job", origin.job},
                {"instance", origin.instance},
                {"pid", origin.pid},
                {"time_ns", std::chrono::duration_cast<std::chrono::nanoseconds>(
                                origin.time.time_since_epoch())
                                .count()},
                {"value", origin.value}};
}

dispatch::VariableOrigin originFrom(const json& value) {
    dispatch::VariableOrigin origin;
    origin.kind = value.at("kind").get<std::string>();
    origin.detail = value.at("detail").get<std::string>();
    origin.job = value.at("job").get<std::string>();
    origin.instance = value.at("instance").get<std::string>();
    origin.pid = integer<int>(value.at("pid"));
    origin.time = std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(
            std::chrono::nanoseconds(integer<std::int64_t>(value.at("time_ns")))));
    origin.value = value.at("value").get<std::string>();
    return origin;
}

json matchesJson(const dispatch::SavedMatches& saved) {
    json matches = json::array();
    for (const auto& match : saved.matches) {
        matches.push_back(json{{"node", match.node}, {"event", match.event}, {"env", match.env}});
    }
    return json{{"condition", saved.condition}, {"matches", std::move(matches)}};
}

dispatch::SavedMatches matchesFrom(const json& value) {
    dispatch::SavedMatches saved;
    saved.condition = value.at("condition").get<std::string>();
    for (const auto& match : value.at("matches")) {
        saved.matches.push_back({integer<std::uint32_t>(match.at("node")),
                                 match.at("event").get<std::string>(),
                                 entriesFrom(match.at("env"))});
    }
    if (!saved.matches.empty() && saved.condition.empty()) {
        throw std::invalid_argument("matched events without their condition");
    }
    return saved;
}

json jobJson(const dispatch::SavedJob& job) {
    json out{{"name", job.name},
             {"instance", job.instance},
             {"goal", static_cast<int>(job.goal)},
             {"state", static_cast<int>(job.state)},
             {"pid", job.pid},
             {"pgid", job.pgid},
             {"env", job.env},
             {"stop_env", job.stop_env},
             {"start_events", job.start_events},
             {"stop_events", job.stop_events},
             {"stop_on", matchesJson(job.stop_on)},
             {"respawn_count", job.respawn_count},
             {"respawn_window_start_ns", job.respawn_window_start_ns},
             {"backoff_ms", job.backoff_ms},
             {"delay_left_ms", job.delay_left_ms},
             {"main_started_ns", job.main_started_ns},
             {"respawns", job.respawns},
             {"ready", job.ready},
             {"output_fd", job.output_fd},
             {"error_fd", job.error_fd},
             {"router_out_fd", job.router_out_fd},
             {"router_err_fd", job.router_err_fd},
             {"definition", job.definition}};
    out["last_exit"] =
        job.last_exit ? json{{"signaled", job.last_exit->signaled}, {"value", job.last_exit->value}}
                      : json(nullptr);
    return out;
}

dispatch::SavedJob jobFrom(const json& value) {
    dispatch::SavedJob job;
    job.name = value.at("name").get<std::string>();
    if (job.name.empty()) {
        throw std::invalid_argument("a job without a name");
    }
    job.instance = value.at("instance").get<std::string>();
    job.goal = enumFrom(value.at("goal"), dispatch::Goal::Respawn);
    job.state = enumFrom(value.at("state"), dispatch::State::PostStop);
    job.pid = integer<pid_t>(value.at("pid"));
    job.pgid = integer<pid_t>(value.at("pgid"));
    if (job.pid < 0 || job.pgid < 0) {
        throw std::out_of_range("a negative process id");
    }
    job.env = entriesFrom(value.at("env"));
    job.stop_env = entriesFrom(value.at("stop_env"));
    job.start_events = value.at("start_events").get<std::string>();
    job.stop_events = value.at("stop_events").get<std::string>();
    job.stop_on = matchesFrom(value.at("stop_on"));
    job.respawn_count = integer<unsigned>(value.at("respawn_count"));
    job.respawn_window_start_ns = integer<std::int64_t>(value.at("respawn_window_start_ns"));
    job.backoff_ms = integer<std::uint32_t>(value.at("backoff_ms"));
    job.delay_left_ms = integer<std::uint32_t>(value.at("delay_left_ms"));
    job.main_started_ns = integer<std::int64_t>(value.at("main_started_ns"));
    job.respawns = integer<unsigned>(value.at("respawns"));
    job.ready = value.at("ready").get<bool>();
    job.output_fd = descriptorFrom(value.at("output_fd"));
    job.error_fd = descriptorFrom(value.at("error_fd"));
    job.router_out_fd = descriptorFrom(value.at("router_out_fd"));
    job.router_err_fd = descriptorFrom(value.at("router_err_fd"));
    job.definition = value.at("definition").get<std::string>();
    if (const json& last = value.at("last_exit"); !last.is_null()) {
        job.last_exit =
            sys::ExitStatus{last.at("signaled").get<bool>(), integer<int>(last.at("value"))};
    }
    return job;
}

// Plugins' states are bytes, and JSON strings are text: they travel as hex.
std::string toHex(const std::string& bytes) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (const char c : bytes) {
        const auto byte = static_cast<unsigned char>(c);
        out += kDigits[byte >> 4];
        out += kDigits[byte & 15];
    }
    return out;
}

std::string fromHex(const std::string& text) {
    const auto digit = [](char c) {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (c >= 'a' && c <= 'f') {
            return c - 'a' + 10;
        }
        throw std::invalid_argument("a plugin's state is not lowercase hex");
    };
    if (text.size() % 2 != 0) {
        throw std::invalid_argument("a plugin's state has an odd number of hex digits");
    }
    std::string out;
    out.reserve(text.size() / 2);
    for (std::size_t i = 0; i < text.size(); i += 2) {
        out += static_cast<char>(digit(text[i]) * 16 + digit(text[i + 1]));
    }
    return out;
}

json lastRunJson(const dispatch::SavedLastRun& saved) {
    const dispatch::LastRun& run = saved.run;
    json out{{"name", saved.name},
             {"instance", run.instance},
             {"failed", run.failed},
             {"failed_process", static_cast<int>(run.failed_process)},
             {"failure_detail", run.failure_detail},
             {"ended_ns",
              std::chrono::duration_cast<std::chrono::nanoseconds>(run.ended.time_since_epoch())
                  .count()},
             {"respawns", run.respawns}};
    out["last_exit"] =
        run.last_exit ? json{{"signaled", run.last_exit->signaled}, {"value", run.last_exit->value}}
                      : json(nullptr);
    return out;
}

dispatch::SavedLastRun lastRunFrom(const json& value) {
    dispatch::SavedLastRun saved;
    saved.name = value.at("name").get<std::string>();
    dispatch::LastRun& run = saved.run;
    run.instance = value.at("instance").get<std::string>();
    run.failed = value.at("failed").get<bool>();
    run.failed_process = enumFrom(value.at("failed_process"), dispatch::FailedProcess::Respawn);
    run.failure_detail = value.at("failure_detail").get<std::string>();
    run.ended = sys::TimePoint(std::chrono::duration_cast<sys::Clock::duration>(
        std::chrono::nanoseconds(integer<std::int64_t>(value.at("ended_ns")))));
    run.respawns = integer<unsigned>(value.at("respawns"));
    if (const json& last = value.at("last_exit"); !last.is_null()) {
        run.last_exit =
            sys::ExitStatus{last.at("signaled").get<bool>(), integer<int>(last.at("value"))};
    }
    return saved;
}

}  // namespace

std::string encodeSavedState(const dispatch::SavedState& state) {
    json origins = json::object();
    for (const auto& [name, origin] : state.global_origins) {
        origins[name] = originJson(origin);
    }
    json jobs = json::array();
    for (const auto& job : state.jobs) {
        jobs.push_back(jobJson(job));
    }
    json last_runs = json::array();
    for (const auto& saved : state.last_runs) {
        last_runs.push_back(lastRunJson(saved));
    }
    json plugins = json::object();
    for (const auto& [name, bytes] : state.plugin_states) {
        plugins[name] = toHex(bytes);
    }
    json start_on = json::object();
    for (const auto& [name, saved] : state.start_on) {
        start_on[name] = matchesJson(saved);
    }
    const json out{{"format", kFormat},
                   {"start_on", std::move(start_on)},
                   {"plugins", std::move(plugins)},
                   {"last_runs", std::move(last_runs)},
                   {"version", kSavedStateVersion},
                   {"global_env", state.global_env},
                   {"global_origins", std::move(origins)},
                   {"jobs", std::move(jobs)}};
    return out.dump() + "\n";
}

std::optional<dispatch::SavedState> decodeSavedState(std::string_view text, std::string& error) {
    const json value = json::parse(text, nullptr, false);
    if (value.is_discarded() || !value.is_object()) {
        error = "not a saved state (not a JSON object)";
        return std::nullopt;
    }
    try {
        if (value.at("format").get<std::string>() != kFormat) {
            error = "not a saved state (format " + value.at("format").dump() + ")";
            return std::nullopt;
        }
        if (const int version = integer<int>(value.at("version")); version != kSavedStateVersion) {
            error = "saved state version " + std::to_string(version) + ", and this tend reads " +
                    std::to_string(kSavedStateVersion) + " only";
            return std::nullopt;
        }
        dispatch::SavedState state;
        state.global_env = entriesFrom(value.at("global_env"));
        for (const auto& [name, origin] : value.at("global_origins").items()) {
            state.global_origins[name] = originFrom(origin);
        }
        for (const auto& job : value.at("jobs")) {
            state.jobs.push_back(jobFrom(job));
        }
        for (const auto& run : value.at("last_runs")) {
            state.last_runs.push_back(lastRunFrom(run));
        }
        for (const auto& [name, bytes] : value.at("plugins").items()) {
            state.plugin_states[name] = fromHex(bytes.get<std::string>());
        }
        for (const auto& [name, saved] : value.at("start_on").items()) {
            if (name.empty()) {
                throw std::invalid_argument("a start on without its job's name");
            }
            state.start_on[name] = matchesFrom(saved);
        }
        return state;
    } catch (const std::exception& e) {
        error = std::string("malformed saved state: ") + e.what();
        return std::nullopt;
    }
}

}  // namespace tend::daemon
