// Replays a fuzz target's corpus (tests/fuzz/corpus/<target>/: seeds and the inputs of every
// crash the fuzzer found) through its LLVMFuzzerTestOneInput in an ordinary g++ build, so that
// `make test` keeps every fixed crash fixed without needing clang or libFuzzer. A target
// reports a broken invariant by aborting, which fails this test; the file being replayed is
// printed first so the failure names it.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

// Named for the target (GANTRY_FUZZ_TARGET, e.g. fuzz_webhook.ReplaysCorpus) so that ctest
// tells the replays apart.
TEST(GANTRY_FUZZ_TARGET, ReplaysCorpus) {
  const std::filesystem::path dir = GANTRY_FUZZ_CORPUS;
  ASSERT_TRUE(std::filesystem::is_directory(dir)) << dir << " is missing";
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.is_regular_file()) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  ASSERT_FALSE(files.empty()) << dir << " holds no inputs";
  for (const auto& file : files) {
    std::fprintf(stderr, "replaying %s\n", file.c_str());
    std::ifstream in(file, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    ASSERT_TRUE(in.good() || in.eof()) << "cannot read " << file;
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  }
  std::fprintf(stderr, "replayed %zu inputs from %s\n", files.size(), dir.c_str());
}

}  // namespace
