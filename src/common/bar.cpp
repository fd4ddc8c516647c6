#include "common/bar.hpp"

namespace af {

const char* bar_origin_name(BarOrigin o) {
  switch (o) {
    case BarOrigin::kArchive: return "archive";
    case BarOrigin::kRest: return "rest";
    case BarOrigin::kStream: return "stream";
    case BarOrigin::kDerived: return "derived";
  }
  return "?";
}

}  // namespace af
