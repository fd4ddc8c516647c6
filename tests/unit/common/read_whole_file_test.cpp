#include "common/read_whole_file.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "support/temp_dir.hpp"

namespace af {
namespace {

namespace fs = std::filesystem;

using test::TempDir;

TEST(ReadWholeFile, ReadsEveryByteIncludingNulls) {
  TempDir dir;
  const std::string path = (dir.path() / "f.bin").string();
  std::string bytes;
  for (int i = 0; i < 100'000; ++i) bytes.push_back(static_cast<char>(i * 7));  // NULs included
  std::ofstream(path, std::ios::binary) << bytes;
  auto got = read_whole_file(path);
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(*got, bytes);
}

TEST(ReadWholeFile, EmptyFileIsEmptyString) {
  TempDir dir;
  const std::string path = (dir.path() / "empty").string();
  std::ofstream(path, std::ios::binary).flush();
  auto got = read_whole_file(path);
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_TRUE(got->empty());
}

TEST(ReadWholeFile, ErrorsNameThePathAndTheReason) {
  TempDir dir;
  const std::string missing = (dir.path() / "missing").string();
  auto a = read_whole_file(missing);
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().message, missing + ": cannot open: No such file or directory");

  auto b = read_whole_file(dir.path().string());
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().message, dir.path().string() + ": not a regular file");

  auto c = read_whole_file("/dev/zero");  // endless: refused before reading
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().message, "/dev/zero: not a regular file");
}

TEST(ReadWholeFile, RefusesAFileLargerThanTheBoundBeforeAllocating) {
  TempDir dir;
  const std::string path = (dir.path() / "big").string();
  std::ofstream(path, std::ios::binary) << std::string(1001, 'x');
  auto over = read_whole_file(path, 1000);
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error().message, path + ": 1001 bytes, more than the 1000 this reader accepts");
  auto at = read_whole_file(path, 1001);
  ASSERT_TRUE(at);
  EXPECT_EQ(at->size(), 1001u);
}

}  // namespace
}  // namespace af
