// SPDX-License-Identifier: MIT
// The inotify reader hands over what the kernel queued as one batch per wake-up, and says when
// the queue overflowed. Fed through a pipe with the kernel's own record layout, so that an
// overflow can be made on demand; the watchers' handling of a real overflow is tested against
// the real kernel in the integration tests.
#include <sys/inotify.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "sys/inotify_reader.hpp"

namespace tend::sys {
namespace {

// One record as the kernel lays it out: the header, then the name padded with NULs.
std::string record(int wd, std::uint32_t mask, const std::string& name) {
    const std::size_t len = name.empty() ? 0 : (name.size() + 1 + 15) / 16 * 16;
    inotify_event event{};
    event.wd = wd;
    event.mask = mask;
    event.len = static_cast<std::uint32_t>(len);
    std::string out(reinterpret_cast<const char*>(&event), sizeof event);
    std::string padded = name;
    padded.resize(len, '\0');
    return out + padded;
}

class InotifyReaderTest : public ::testing::Test {
  protected:
    void SetUp() override {
        ASSERT_EQ(::pipe2(fds_, O_NONBLOCK | O_CLOEXEC), 0);
        reader_.adopt(fds_[0]);
        reader_.start([this](const InotifyBatch& batch) { batches_.push_back(batch); });
    }
    void TearDown() override { ::close(fds_[1]); }

    void feed(const std::string& bytes) {
        ASSERT_EQ(::write(fds_[1], bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
    }
    void runUntilIdle() {
        io_.restart();
        io_.poll();
    }

    boost::asio::io_context io_;
    InotifyReader reader_{io_};
    int fds_[2] = {-1, -1};
    std::vector<InotifyBatch> batches_;
};

TEST_F(InotifyReaderTest, EverythingQueuedArrivesAsOneBatchWithItsNames) {
    feed(record(1, IN_CLOSE_WRITE, "a.conf") + record(2, IN_DELETE, "a-much-longer-name.so") +
         record(1, IN_DELETE_SELF, ""));
    runUntilIdle();
    ASSERT_EQ(batches_.size(), 1u);
    const InotifyBatch& batch = batches_.front();
    EXPECT_FALSE(batch.overflowed);
    ASSERT_EQ(batch.events.size(), 3u);
    EXPECT_EQ(batch.events[0].wd, 1);
    EXPECT_EQ(batch.events[0].mask, static_cast<std::uint32_t>(IN_CLOSE_WRITE));
    EXPECT_EQ(batch.events[0].name, "a.conf");
    EXPECT_EQ(batch.events[1].name, "a-much-longer-name.so");
    EXPECT_EQ(batch.events[2].name, "");
}

TEST_F(InotifyReaderTest, AnOverflowIsReportedOnItsBatchAndNotAsAnEvent) {
    feed(record(1, IN_CLOSE_WRITE, "x.conf") + record(-1, IN_Q_OVERFLOW, ""));
    runUntilIdle();
    ASSERT_EQ(batches_.size(), 1u);
    EXPECT_TRUE(batches_.front().overflowed);
    ASSERT_EQ(batches_.front().events.size(), 1u);
    EXPECT_EQ(batches_.front().events.front().name, "x.conf");

    feed(record(1, IN_CLOSE_WRITE, "y.conf"));  // the next wake-up is a batch of its own
    runUntilIdle();
    ASSERT_EQ(batches_.size(), 2u);
    EXPECT_FALSE(batches_.back().overflowed);
}

// The kernel writes whole records; a record cut short (only a test can make one) is dropped
// rather than read past its end.
TEST_F(InotifyReaderTest, ARecordCutShortIsNotReadPastItsEnd) {
    const std::string whole = record(3, IN_CLOSE_WRITE, "whole.conf");
    const std::string cut = record(4, IN_CLOSE_WRITE, "a-name-that-is-cut-off.conf");
    feed(whole + cut.substr(0, cut.size() - 20));
    runUntilIdle();
    ASSERT_EQ(batches_.size(), 1u);
    ASSERT_EQ(batches_.front().events.size(), 1u);
    EXPECT_EQ(batches_.front().events.front().name, "whole.conf");
}

TEST_F(InotifyReaderTest, NothingQueuedMeansNoBatch) {
    runUntilIdle();
    EXPECT_TRUE(batches_.empty());
}

}  // namespace
}  // namespace tend::sys
