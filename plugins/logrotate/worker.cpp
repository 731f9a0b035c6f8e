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
    // Compressing is background work: it runs only when the CPU would otherwise idle, so that
    // it never slows tend's loop or a job writing its log (a rotated log waits, plain and
    // whole, until there is time). SCHED_IDLE, else at least the lowest nice value; on Linux
    // both are the thread's own.
    sched_param none{};
    if (::sched_setscheduler(0, SCHED_IDLE, &none) != 0) {
        ::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), 19);
    }
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
