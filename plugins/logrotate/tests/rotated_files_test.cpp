// SPDX-License-Identifier: MIT
// logrotate's file steps on a real directory: shifting old logs, the handshake's rename, gzip.
#include <sys/stat.h>
#include <zlib.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "rotated_files.hpp"

namespace tend::logrotate {
namespace {

namespace fs = std::filesystem;

class RotatedFiles : public ::testing::Test {
  protected:
    void SetUp() override {
        char pattern[] = "/tmp/tend-rotate-XXXXXX";
        ASSERT_NE(::mkdtemp(pattern), nullptr);
        dir_ = pattern;
        log_ = (dir_ / "job.log").string();
    }
    void TearDown() override { fs::remove_all(dir_); }

    static void write(const std::string& path, const std::string& text) {
        std::ofstream(path, std::ios::binary) << text;
    }
    static std::string read(const std::string& path) {
        std::ifstream in(path, std::ios::binary);
        std::ostringstream out;
        out << in.rdbuf();
        return out.str();
    }
    static std::string gunzip(const std::string& path) {
        std::string text;
        gzFile gz = ::gzopen(path.c_str(), "rb");
        if (!gz) {
            return "<cannot open>";
        }
        char buffer[4096];
        int n = 0;
        while ((n = ::gzread(gz, buffer, sizeof buffer)) > 0) {
            text.append(buffer, static_cast<std::size_t>(n));
        }
        ::gzclose(gz);
        return text;
    }

    fs::path dir_;
    std::string log_;
};

TEST_F(RotatedFiles, ShiftingMovesEachOldLogUpOneAndDropsWhatPassesKeep) {
    write(log_ + ".1.gz", "one");
    write(log_ + ".2", "two, left plain by a failed compression");
    write(log_ + ".3.gz", "three");
    ASSERT_EQ(shiftRotated(log_, 3), "");
    EXPECT_EQ(read(log_ + ".2.gz"), "one");
    EXPECT_EQ(read(log_ + ".3"), "two, left plain by a failed compression");
    EXPECT_FALSE(fs::exists(log_ + ".1.gz"));
    EXPECT_FALSE(fs::exists(log_ + ".4.gz"));  // three passed keep 3
    EXPECT_FALSE(fs::exists(log_ + ".3.gz"));
}

TEST_F(RotatedFiles, TheHandshakeRenameLeavesAMissingOrEmptyLogAlone) {
    bool renamed = true;
    const std::string aside = asideName(log_);
    EXPECT_EQ(renameAside(log_, aside, renamed), "");
    EXPECT_FALSE(renamed);
    write(log_, "");
    EXPECT_EQ(renameAside(log_, aside, renamed), "");
    EXPECT_FALSE(renamed);
    EXPECT_TRUE(fs::exists(log_));
    write(log_, "line\n");
    EXPECT_EQ(renameAside(log_, aside, renamed), "");
    EXPECT_TRUE(renamed);
    EXPECT_EQ(read(aside), "line\n");
    EXPECT_FALSE(fs::exists(log_));
}

TEST_F(RotatedFiles, LogsPutAsideArePlacedInTheOrderTheyWereMadeAndCompressed) {
    const std::string first = asideName(log_);
    const std::string second = asideName(log_);
    write(first, "older\n");
    write(second, "newer\n");
    write(log_ + ".1.gz", "");  // from an earlier rotation
    EXPECT_EQ(asideRotations(dir_.string()), (std::vector<std::string>{first, second}));
    ASSERT_EQ(placeRotation(log_, first, 5, false), "");
    ASSERT_EQ(placeRotation(log_, second, 5, true), "");
    EXPECT_EQ(gunzip(log_ + ".1.gz"), "newer\n");
    EXPECT_EQ(read(log_ + ".2"), "older\n");
    EXPECT_TRUE(fs::exists(log_ + ".3.gz"));
    EXPECT_TRUE(asideRotations(dir_.string()).empty());
    // Placed already (by a repair that ran first): nothing to do, and no error.
    EXPECT_EQ(placeRotation(log_, first, 5, true), "");
}

TEST_F(RotatedFiles, KeepZeroDropsTheLogPutAside) {
    const std::string aside = asideName(log_);
    write(aside, "gone\n");
    ASSERT_EQ(placeRotation(log_, aside, 0, true), "");
    EXPECT_FALSE(fs::exists(aside));
    EXPECT_FALSE(fs::exists(log_ + ".1"));
    EXPECT_FALSE(fs::exists(log_ + ".1.gz"));
}

TEST_F(RotatedFiles, CompressionKeepsEveryByteAndRemovesThePlainFile) {
    std::string text;
    for (int i = 0; i < 300000; ++i) {
        text += std::to_string(i) + " some log text\n";
    }
    write(log_ + ".1", text);
    ASSERT_EQ(compressFile(log_ + ".1"), "");
    EXPECT_FALSE(fs::exists(log_ + ".1"));
    EXPECT_FALSE(fs::exists(log_ + ".1.gz.partial"));
    EXPECT_LT(fs::file_size(log_ + ".1.gz"), text.size() / 3);
    EXPECT_EQ(gunzip(log_ + ".1.gz"), text);
}

TEST_F(RotatedFiles, ACompressionThatCannotWriteKeepsThePlainFileAndLeavesNoPartialOne) {
    write(log_ + ".1", "precious\n");
    // A directory in the way of the temporary file: creating it fails, as on a full disk.
    fs::create_directory(log_ + ".1.gz.partial");
    const std::string error = compressFile(log_ + ".1");
    EXPECT_NE(error.find("cannot create"), std::string::npos) << error;
    EXPECT_EQ(read(log_ + ".1"), "precious\n");
    EXPECT_FALSE(fs::exists(log_ + ".1.gz"));
}

TEST_F(RotatedFiles, LeftoversAndLiveLogsAreFoundByName) {
    write(log_, "live");
    write(log_ + ".2", "plain");
    write(log_ + ".1.gz", "gz");
    write((dir_ / "other.log").string(), "live");
    write((dir_ / "notes.txt").string(), "not a log");
    EXPECT_EQ(uncompressedRotations(dir_.string()), (std::vector<std::string>{log_ + ".2"}));
    EXPECT_EQ(liveLogs(dir_.string()),
              (std::vector<std::string>{log_, (dir_ / "other.log").string()}));
}

}  // namespace
}  // namespace tend::logrotate
