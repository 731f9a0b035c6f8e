// SPDX-License-Identifier: MIT
// The job classes the dispatch benchmarks load: the shapes real session jobs use, cycled.
#pragma once

#include <memory>
#include <string>

#include "conf/job_loader.hpp"
#include "conf/stanza_registry.hpp"
#include "dispatch/supervisor.hpp"

namespace tend::bench {

// A dependency on another job, a desktop event with a variable, file and D-Bus bridge events,
// and the matching stop conditions.
inline std::string sessionJobText(int i) {
    switch (i % 5) {
    case 0:
        return "start on started svc" + std::to_string(i + 1) + "\nstop on stopping svc" +
               std::to_string(i + 1) + "\nexec x\n";
    case 1:
        return "start on desktop-start and started dbus\nstop on desktop-end\nexec x\n";
    case 2:
        return "start on file FILE=/home/u/Mail/new/" + std::to_string(i) +
               "* EVENT=create\ntask\nexec x\n";
    case 3:
        return "start on (started dbus or xsession SESSIONTYPE=gnome*) and net-device-up "
               "IFACE!=lo\nstop on session-end\nexec x\n";
    default:
        return "start on dbus SIGNAL=NameOwnerChanged INTERFACE=org.example" + std::to_string(i) +
               "\nexec x\n";
    }
}

// Loads svc0 .. svc<count - 1> into `supervisor`.
inline void loadSessionJobs(dispatch::Supervisor& supervisor, int count) {
    const auto registry = conf::StanzaRegistry::withCoreStanzas();
    for (int i = 0; i < count; ++i) {
        const std::string name = "svc" + std::to_string(i);
        const grammar::SourceText source(name + ".conf", sessionJobText(i));
        auto result = conf::loadJob(name, source, nullptr, registry);
        supervisor.setClass(std::make_shared<const model::JobClass>(std::move(*result.job)));
    }
}

}  // namespace tend::bench
