#pragma once
// A crafted zip for the `huge_zip` fault: well formed, one entry holding `content`,
// but declaring `declared_size` uncompressed bytes through a zip64 extra field (the
// "zip bomb" header a hostile or broken archive server could send). Built byte by
// byte so that its size fields say what the test needs; deterministic (no clock),
// so its .CHECKSUM is stable. Pure function, any thread.

#include <cstdint>
#include <string>
#include <string_view>

namespace af::sim {

// One deflate entry (a single stored block) named `entry_name`.
std::string zip_declaring_size(std::string_view entry_name, std::string_view content, uint64_t declared_size);

}  // namespace af::sim
