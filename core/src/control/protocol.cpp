// SPDX-License-Identifier: MIT
#include "control/protocol.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <system_error>
#include <utility>

namespace tend::control {

using json = nlohmann::json;

namespace {

// The deepest nesting of arrays and objects in `text`, which must be valid JSON (brackets inside
// strings do not count). A scan of the text rather than a walk of the parsed value, because the
// walk is the recursion this guards against.
std::size_t nestingDepth(std::string_view text) {
    std::size_t depth = 0;
    std::size_t deepest = 0;
    bool in_string = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (in_string) {
            if (c == '\\') {
                ++i;
            } else if (c == '"') {
                in_string = false;
            }
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            deepest = std::max(deepest, ++depth);
        } else if (c == ']' || c == '}') {
            --depth;
        }
    }
    return deepest;
}

}  // namespace

std::string sessionRuntimeDir(std::string_view display) {
    const char* runtime = std::getenv("XDG_RUNTIME_DIR");
    if (!runtime || !*runtime) {
        return {};
    }
    std::string dir = std::string(runtime) + "/tend";
    if (display.empty()) {
        return dir;
    }
    // HOST:NUMBER.SCREEN: the screen does not make another display.
    const std::size_t colon = display.rfind(':');
    std::string name(display.substr(0, colon == std::string_view::npos ? 0 : colon));
    std::string_view number = colon == std::string_view::npos ? display : display.substr(colon + 1);
    number = number.substr(0, number.find('.'));
    if (!name.empty()) {
        name += '_';
    }
    name += number;
    std::replace(name.begin(), name.end(), '/', '_');
    return dir + "/display-" + name;
}

std::string defaultSocketPath() {
    if (const char* session = std::getenv("TEND_SESSION"); session && *session) {
        return session;
    }
    // What tend sets beside TEND_SESSION when `initctl` is tendctl, in Upstart's form.
    if (const char* upstart = std::getenv("UPSTART_SESSION"); upstart) {
        constexpr std::string_view kPath = "unix:path=";
        if (std::string_view address(upstart); address.starts_with(kPath)) {
            return std::string(address.substr(kPath.size()));
        }
    }
    const std::string plain = sessionRuntimeDir({});
    if (plain.empty()) {
        return {};
    }
    namespace fs = std::filesystem;
    std::error_code ec;
    std::string for_display;
    if (const char* display = std::getenv("DISPLAY"); display && *display) {
        for_display = sessionRuntimeDir(display) + "/control";
        if (fs::exists(for_display, ec)) {
            return for_display;
        }
    }
    if (fs::exists(plain + "/control", ec)) {
        return plain + "/control";
    }
    std::vector<std::string> desktops;
    for (fs::directory_iterator it(plain, ec), end; !ec && it != end; it.increment(ec)) {
        const std::string socket = it->path().string() + "/control";
        if (it->path().filename().string().starts_with("display-") && fs::exists(socket, ec)) {
            desktops.push_back(socket);
        }
    }
    if (desktops.size() == 1) {
        return desktops.front();
    }
    return for_display.empty() ? plain + "/control" : for_display;
}

std::variant<Request, RequestError> decodeRequest(std::string_view line) {
    if (line.size() > kMaxRequestBytes) {
        return RequestError{"request-too-long", "request too long: the limit is " +
                                                    std::to_string(kMaxRequestBytes) +
                                                    " bytes per line"};
    }
    json message = json::parse(line, nullptr, false);
    if (message.is_discarded()) {
        // Parse again for the position of the mistake; the first pass never throws.
        std::string detail = "not valid JSON";
        try {
            [[maybe_unused]] const json again = json::parse(line);
        } catch (const json::parse_error& e) {
            detail = "not valid JSON at byte " + std::to_string(e.byte);
        } catch (const json::exception&) {
        }
        return RequestError{"bad-request", "request is " + detail};
    }
    if (nestingDepth(line) > kMaxRequestDepth) {
        return RequestError{"bad-request", "request nests too deeply: the limit is " +
                                               std::to_string(kMaxRequestDepth) + " levels"};
    }
    if (!message.is_object()) {
        return RequestError{"bad-request", "request must be a JSON object"};
    }
    const auto protocol = message.find("protocol");
    if (protocol == message.end() || !protocol->is_number_integer()) {
        return RequestError{"protocol",
                            "request has no \"protocol\" version; tend speaks protocol " +
                                std::to_string(kProtocolVersion)};
    }
    if (*protocol != kProtocolVersion) {
        // dump(), not get<long long>(): a number above LLONG_MAX would be named as negative.
        return RequestError{"protocol", "protocol " + protocol->dump() +
                                            " not supported; tend speaks " +
                                            std::to_string(kProtocolVersion)};
    }
    Request request;
    const auto command = message.find("command");
    if (command == message.end() || !command->is_string() ||
        command->get_ref<const std::string&>().empty()) {
        return RequestError{"bad-request", "request has no \"command\" string"};
    }
    request.command = command->get<std::string>();
    if (const auto args = message.find("args"); args != message.end()) {
        if (!args->is_array()) {
            return RequestError{"bad-request", "\"args\" must be an array of strings"};
        }
        for (const auto& arg : *args) {
            if (!arg.is_string()) {
                return RequestError{"bad-request", "\"args\" must be an array of strings"};
            }
            request.args.push_back(arg.get<std::string>());
        }
    }
    if (const auto wait = message.find("wait"); wait != message.end()) {
        if (!wait->is_boolean()) {
            return RequestError{"bad-request", "\"wait\" must be true or false"};
        }
        request.wait = wait->get<bool>();
    }
    if (const auto options = message.find("options"); options != message.end()) {
        if (!options->is_object()) {
            return RequestError{"bad-request", "\"options\" must be an object"};
        }
        request.options = std::move(*options);
    }
    return request;
}

json okReply(std::string output, json data) {
    json reply{{"protocol", kProtocolVersion}, {"ok", true}, {"output", std::move(output)}};
    if (!data.is_null()) {
        reply["data"] = std::move(data);
    }
    return reply;
}

json errorReply(std::string code, std::string message) {
    return json{{"protocol", kProtocolVersion},
                {"ok", false},
                {"code", std::move(code)},
                {"error", std::move(message)}};
}

std::string errorCodeFor(std::string_view message) {
    static constexpr std::pair<std::string_view, std::string_view> kCodes[] = {
        {"Unknown job: ", "unknown-job"},
        {"Unknown instance: ", "unknown-instance"},
        {"Unknown parameter: ", "unknown-parameter"},
        {"Job is already running: ", "already-running"},
        {"Job has already been stopped: ", "already-stopped"},
        {"Job failed", "job-failed"},
        {"Event failed", "event-failed"},
        {"Not running", "not-running"},
        {"Env must be KEY=VALUE pairs", "bad-environment"},
        {"missing ", "missing-argument"},
    };
    for (const auto& [prefix, code] : kCodes) {
        if (message.starts_with(prefix)) {
            return std::string(code);
        }
    }
    return "failed";
}

std::string encodeLine(const json& message) {
    std::string text = message.dump(-1, ' ', false, json::error_handler_t::replace);
    text.push_back('\n');
    return text;
}

}  // namespace tend::control
