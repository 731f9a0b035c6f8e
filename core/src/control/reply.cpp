// SPDX-License-Identifier: MIT
#include "control/reply.hpp"

namespace tend::control {

using json = nlohmann::json;

Replier::Replier(std::shared_ptr<Client> to, const Request& request) : client(std::move(to)) {
    const auto data = request.options.find("data");
    omit_data = data != request.options.end() && *data == false;
}

void Replier::operator()(const json& message) const {
    if (!omit_data || !message.contains("ok") || !message.contains("data")) {
        client->send(message);
        return;
    }
    json without = json::object();
    for (auto it = message.begin(); it != message.end(); ++it) {
        if (it.key() != "data") {
            without[it.key()] = it.value();
        }
    }
    client->send(without);
}

bool flag(const Request& request, const char* name) {
    const auto it = request.options.find(name);
    return it != request.options.end() && it->is_boolean() && it->get<bool>();
}

}  // namespace tend::control
