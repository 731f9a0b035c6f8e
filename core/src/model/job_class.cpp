// SPDX-License-Identifier: MIT
#include "model/job_class.hpp"

namespace tend::model {

std::string_view processTypeName(ProcessType type) {
    switch (type) {
    case ProcessType::Main:
        return "main";
    case ProcessType::PreStart:
        return "pre-start";
    case ProcessType::PostStart:
        return "post-start";
    case ProcessType::PreStop:
        return "pre-stop";
    case ProcessType::PostStop:
        return "post-stop";
    }
    return "main";
}

std::string_view expectName(Expect expect) {
    switch (expect) {
    case Expect::None:
        return "none";
    case Expect::Stop:
        return "stop";
    case Expect::Daemon:
        return "daemon";
    case Expect::Fork:
        return "fork";
    case Expect::Notify:
        return "notify";
    }
    return "none";
}

std::string_view consoleName(Console console) {
    switch (console) {
    case Console::Default:
    case Console::Log:
        return "log";
    case Console::Journal:
        return "journal";
    case Console::None:
        return "none";
    case Console::Output:
        return "output";
    case Console::Owner:
        return "owner";
    }
    return "log";
}

}  // namespace tend::model
