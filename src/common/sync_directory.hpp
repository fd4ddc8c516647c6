#pragma once
// sync_directory: makes a directory's entries durable. Creating or renaming a
// file changes its directory, and only an fsync of the directory puts that
// change on disk: without it a crash can leave a spool, a snapshot or a CSV file
// that was written and fsynced but is missing from its directory. Used by every
// writer that creates or renames a file (spool, CSV sink, state store).
// Stateless; callable from any thread.

#include <string>

#include "common/result.hpp"

namespace af {

// fsyncs `dir`; the Error names the directory and the reason ("cannot open", "fsync failed").
Status sync_directory(const std::string& dir);

// fsyncs the directory that holds `path` ("." for a bare file name).
Status sync_parent_directory(const std::string& path);

}  // namespace af
