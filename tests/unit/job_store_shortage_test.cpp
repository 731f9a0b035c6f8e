// SPDX-License-Identifier: MIT
// The job-file store with no descriptor left, taken for real: the soft RLIMIT_NOFILE lowered and
// every descriptor under it held. A file that cannot be opened is neither broken nor unchanged,
// and a directory that cannot be listed has not lost its jobs; both are read again, and only
// then does what changed apply.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <vector>

#include "dispatch/supervisor.hpp"
#include "store/job_store.hpp"
#include "support/fake_platform.hpp"

namespace tend {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Holds every descriptor the (lowered) soft limit allows, until destroyed.
class EveryDescriptorTaken {
  public:
    EveryDescriptorTaken() {
        ::getrlimit(RLIMIT_NOFILE, &saved_);
        rlimit lowered = saved_;
        lowered.rlim_cur = std::min<rlim_t>(saved_.rlim_cur, 512);
        ::setrlimit(RLIMIT_NOFILE, &lowered);
        for (int fd; (fd = ::dup(STDIN_FILENO)) >= 0;) {
            taken_.push_back(fd);
        }
    }
    ~EveryDescriptorTaken() {
        for (const int fd : taken_) {
            ::close(fd);
        }
        ::setrlimit(RLIMIT_NOFILE, &saved_);
    }
    EveryDescriptorTaken(const EveryDescriptorTaken&) = delete;
    EveryDescriptorTaken& operator=(const EveryDescriptorTaken&) = delete;

    bool holdsAll() const { return !taken_.empty() && ::dup(STDIN_FILENO) < 0; }
    // One free: enough to list a directory, not one with a subdirectory in it (the walk holds
    // both open).
    void leaveOneFree() {
        ::close(taken_.back());
        taken_.pop_back();
    }

  private:
    rlimit saved_{};
    std::vector<int> taken_;
};

class StoreShortage : public ::testing::Test {
  protected:
    void SetUp() override {
        ASSERT_FALSE(root_.empty());
        fs::create_directories(high_);
        fs::create_directories(low_);
        store_.onRetryOwed([this] { ++retries_owed_; });
    }
    void TearDown() override { fs::remove_all(root_); }

    static fs::path temporaryRoot() {
        char pattern[] = "/tmp/tend-shortage-XXXXXX";
        return ::mkdtemp(pattern) ? fs::path(pattern) : fs::path();
    }

    static void write(const fs::path& file, const std::string& text) {
        const fs::path temporary = file.string() + ".part";
        std::ofstream(temporary) << text;
        fs::rename(temporary, file);
    }
    std::string execOf(const std::string& job) {
        const dispatch::ClassEntry* entry = supervisor_.findClass(job);
        if (!entry || !entry->cls->process(model::ProcessType::Main)) {
            return "(none)";
        }
        return entry->cls->process(model::ProcessType::Main)->command;
    }

    fs::path root_ = temporaryRoot();
    fs::path high_ = root_ / "high";
    fs::path low_ = root_ / "low";
    test::FakePlatform platform_;
    std::shared_ptr<spdlog::logger> logger_ =
        std::make_shared<spdlog::logger>("test", std::make_shared<spdlog::sinks::null_sink_mt>());
    dispatch::Supervisor supervisor_{platform_, nullptr, dispatch::SupervisorOptions{}, logger_};
    store::JobStore store_{supervisor_, {high_, low_}, logger_};
    int retries_owed_ = 0;
};

TEST_F(StoreShortage, AnEditThatCannotBeOpenedIsReadAgainLaterNotTakenAsBrokenOrUnchanged) {
    write(high_ / "mail.conf", "exec imapfilter\n");
    ASSERT_THAT(store_.rescan().added, ElementsAre("mail"));
    write(high_ / "mail.conf", "exec imapfilter -v\n");
    write(high_ / "news.conf", "exec newsboat\n");

    store::RescanReport during;
    {
        EveryDescriptorTaken taken;
        ASSERT_TRUE(taken.holdsAll());
        during = store_.rescanNamed({"mail", "news"});
    }
    EXPECT_THAT(during.unread, ElementsAre("mail", "news"));
    EXPECT_TRUE(during.changed.empty());
    EXPECT_TRUE(during.added.empty());
    ASSERT_FALSE(during.errors.empty());
    EXPECT_THAT(during.errors.front(), HasSubstr("cannot open: Too many open files"));
    EXPECT_THAT(during.summary(), HasSubstr("2 not read for want of descriptors or memory"));
    EXPECT_THAT(during.summary(), HasSubstr("trying again in 1s"));
    EXPECT_EQ(execOf("mail"), "imapfilter");  // the definition in force stays
    EXPECT_EQ(supervisor_.findClass("news"), nullptr);
    EXPECT_TRUE(store_.owesARead());
    EXPECT_EQ(retries_owed_, 1);

    // Named nothing: the store owes these two a read (their stamps were not taken).
    const store::RescanReport after = store_.rescanNamed({});
    EXPECT_THAT(after.changed, ElementsAre("mail"));
    EXPECT_THAT(after.added, ElementsAre("news"));
    EXPECT_TRUE(after.unread.empty());
    EXPECT_EQ(execOf("mail"), "imapfilter -v");
    EXPECT_FALSE(store_.owesARead());
    EXPECT_EQ(retries_owed_, 1);
}

TEST_F(StoreShortage, ADirectoryThatCannotBeListedKeepsItsJobsAndItsPriority) {
    write(high_ / "mail.conf", "exec imapfilter\n");
    fs::create_directories(high_ / "sub");
    write(high_ / "sub" / "x.conf", "exec x\n");
    write(low_ / "mail.conf", "exec the-low-one\n");
    write(low_ / "news.conf", "exec newsboat\n");
    ASSERT_EQ(store_.rescan().added.size(), 3u);
    ASSERT_EQ(execOf("mail"), "imapfilter");
    write(low_ / "feeds.conf", "exec feeds\n");

    store::RescanReport none_free;
    store::RescanReport one_free;
    {
        EveryDescriptorTaken taken;
        ASSERT_TRUE(taken.holdsAll());
        none_free = store_.rescan();  // as reload-configuration: no grace for removals
        // The high directory's walk is cut short at its subdirectory; the low one is listed
        // whole, with its own mail.conf, which must not take over.
        taken.leaveOneFree();
        one_free = store_.rescan();
    }
    for (const store::RescanReport* during : {&none_free, &one_free}) {
        EXPECT_TRUE(during->listing_cut_short);
        EXPECT_TRUE(during->removed.empty()) << during->planText();
        EXPECT_THAT(during->summary(),
                    HasSubstr("a job directory could not be listed for want of descriptors or "
                              "memory, and its jobs stay as they are; trying again in 1s"));
    }
    EXPECT_EQ(execOf("mail"), "imapfilter");
    EXPECT_EQ(execOf("news"), "newsboat");
    EXPECT_EQ(execOf("sub/x"), "x");
    EXPECT_EQ(retries_owed_, 2);

    EXPECT_THAT(none_free.added, ::testing::IsEmpty());
    EXPECT_EQ(none_free.files, 3u);  // the jobs as they stand: counted, and unchanged
    EXPECT_EQ(none_free.unchanged, 3u);
    EXPECT_THAT(one_free.added, ElementsAre("feeds"));  // the low directory was listed

    // A named rescan after it lists the whole tree again, and owes nothing more.
    const store::RescanReport after = store_.rescanNamed({});
    EXPECT_FALSE(after.listing_cut_short);
    EXPECT_EQ(after.files, 4u);  // low/mail.conf is hidden behind high/mail.conf
    EXPECT_TRUE(after.removed.empty());
    EXPECT_EQ(execOf("mail"), "imapfilter");
    EXPECT_FALSE(store_.owesARead());
}

// A file whose content is at fault is final until it changes: no retry is owed for it.
TEST_F(StoreShortage, ABrokenFileOwesNoRetry) {
    write(high_ / "bad.conf", "exec\n");
    const store::RescanReport report = store_.rescan();
    EXPECT_FALSE(report.errors.empty());
    EXPECT_TRUE(report.unread.empty());
    EXPECT_FALSE(store_.owesARead());
    EXPECT_EQ(retries_owed_, 0);
}

}  // namespace
}  // namespace tend
