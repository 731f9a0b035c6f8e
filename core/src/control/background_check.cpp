// SPDX-License-Identifier: MIT
#include "control/background_check.hpp"

#include <string>

namespace tend::control {

namespace asio = boost::asio;

BackgroundChecks::BackgroundChecks(asio::io_context& io, const conf::StanzaRegistry& stanzas)
    : io_(io), stanzas_(stanzas) {}

BackgroundChecks::~BackgroundChecks() {
    {
        std::lock_guard lock(shared_->mutex);
        shared_->stopping = true;
        shared_->queue.clear();
    }
    shared_->changed.notify_all();
    if (thread_.joinable()) {
        thread_.join();
    }
}

void BackgroundChecks::run(std::vector<std::filesystem::path> paths, conf::CheckOptions options,
                           Done done) {
    auto stanzas = stanzas_.withPluginStanzasThrough(
        [this](const conf::StanzaRegistry::Entry& entry) { return onTheLoop(entry); });
    {
        std::lock_guard lock(shared_->mutex);
        shared_->queue.push_back(
            {std::move(stanzas), std::move(paths), std::move(options), std::move(done)});
    }
    shared_->changed.notify_all();
    if (!thread_.joinable()) {
        thread_ = std::thread([this] { work(); });
    }
}

void BackgroundChecks::work() {
    for (;;) {
        std::optional<Check> check;
        {
            std::unique_lock lock(shared_->mutex);
            shared_->changed.wait(lock,
                                  [this] { return shared_->stopping || !shared_->queue.empty(); });
            if (shared_->stopping) {
                return;
            }
            check.emplace(std::move(shared_->queue.front()));
            shared_->queue.pop_front();
        }
        conf::CheckReport report = conf::checkPaths(check->paths, check->stanzas, check->options);
        asio::post(io_, [shared = shared_, done = std::move(check->done),
                         report = std::move(report)]() mutable {
            {
                std::lock_guard lock(shared->mutex);
                if (shared->stopping) {
                    return;  // tend is ending: whoever asked is going too
                }
            }
            done(std::move(report));
        });
    }
}

// One plugin stanza, checked by its plugin on the loop while the check thread waits.
conf::StanzaHandler BackgroundChecks::onTheLoop(const conf::StanzaRegistry::Entry& entry) const {
    return [io = &io_, shared = shared_, live_stanzas = &stanzas_, keyword = entry.keyword,
            owner = entry.owner](conf::StanzaContext& context) {
        enum class Step { Waiting, Running, Done, Abandoned };
        auto step = std::make_shared<Step>(Step::Waiting);
        asio::post(*io, [shared, step, live_stanzas, keyword, owner, &context] {
            {
                std::lock_guard lock(shared->mutex);
                if (*step == Step::Abandoned) {
                    return;  // the check thread gave up: `context` is gone
                }
                *step = Step::Running;
            }
            const conf::StanzaRegistry::Entry* live = live_stanzas->find(keyword);
            if (live && live->owner == owner) {
                live->handler(context);
            } else {
                context.error(context.stanza().offset,
                              keyword + ": plugin " + owner + " went away during the check");
            }
            {
                std::lock_guard lock(shared->mutex);
                *step = Step::Done;
            }
            shared->changed.notify_all();
        });
        std::unique_lock lock(shared->mutex);
        // Once the loop has begun the call it ends it: wait for that even when stopping.
        shared->changed.wait(lock, [&] {
            return *step == Step::Done || (shared->stopping && *step == Step::Waiting);
        });
        if (*step == Step::Waiting) {
            *step = Step::Abandoned;
            lock.unlock();
            context.error(context.stanza().offset, keyword + ": not checked, tend is ending");
        }
    };
}

}  // namespace tend::control
