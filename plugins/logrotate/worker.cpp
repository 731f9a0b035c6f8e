// SPDX-License-Identifier: MIT
#include "worker.hpp"

#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

namespace tend::logrotate {

Worker::Worker() : thread_([this] { loop(); }) {}

Worker::~Worker() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
        tasks_.clear();
    }
    wake_.notify_one();
    thread_.join();
}

void Worker::run(std::function<void()> task) {
    {
        std::lock_guard lock(mutex_);
        tasks_.push_back(std::move(task));
    }
    wake_.notify_one();
}

void Worker::loop() {
    // Compressing is background work: it yields to tend's loop and to the jobs writing their
    // logs. SCHED_BATCH at nice 19, not SCHED_IDLE: an idle-class thread gets next to no time
    // on a machine that is never idle, and the rotations waiting for it piled up. On Linux both
    // settings are the thread's own.
    sched_param none{};
    ::sched_setscheduler(0, SCHED_BATCH, &none);
    ::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), 19);
    for (;;) {
        std::function<void()> task;
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
            if (stopping_) {
                return;
            }
            task = std::move(tasks_.front());
            tasks_.pop_front();
        }
        task();
    }
}

}  // namespace tend::logrotate
