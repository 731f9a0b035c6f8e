// SPDX-License-Identifier: MIT
// One thread for the plugin's file work (renaming old logs, gzip), so that compressing a
// 100 MB log never stalls tend's loop. Tasks run in order; the destructor finishes the one
// running and drops the rest.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace tend::logrotate {

class Worker {
  public:
    Worker();
    ~Worker();
    Worker(const Worker&) = delete;
    Worker& operator=(const Worker&) = delete;

    void run(std::function<void()> task);

  private:
    void loop();

    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<std::function<void()>> tasks_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace tend::logrotate
