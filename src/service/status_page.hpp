#pragma once
// The status page the metrics port serves at `/`: one self-contained HTML document
// (inline style and script; no external scripts, fonts or images, so it works
// offline and under the Content-Security-Policy the server sends with it). It loads
// `status` (the JSON of `/status`, relative, so it also works behind a path prefix)
// every 2 s, or every `?every=MS` (at least 500), and shows the pipeline, its phase
// and health, a per-symbol table with stale rows highlighted and a chart of the
// recent predictions, the feeds, the sinks and the snapshot age.

#include <string_view>

namespace af::service {

std::string_view status_page_html();

}  // namespace af::service
