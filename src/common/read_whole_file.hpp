#pragma once
// read_whole_file: a file's bytes in one string, read with one allocation sized
// from fstat (a stream copy into a stringstream, as several readers did, copied
// every byte twice and hid read errors). Bounded: a file larger than `max_bytes`
// is refused before anything is allocated, so a hostile path (a huge file, a
// device) cannot exhaust memory.

#include <cstdint>
#include <string>

#include "common/result.hpp"

namespace af {

inline constexpr uint64_t kDefaultMaxFileBytes = uint64_t{1} << 30;  // 1 GiB

// Errors name the path: "<path>: cannot open: <reason>", "<path>: not a regular
// file", "<path>: <n> bytes, more than the <max> this reader accepts",
// "<path>: read error: <reason>".
Result<std::string> read_whole_file(const std::string& path, uint64_t max_bytes = kDefaultMaxFileBytes);

}  // namespace af
