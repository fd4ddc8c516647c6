#pragma once
// EventRouter: which flow an event triggers. Every event is "a row was appended
// to frame F" (a data step's bar close, or a transform's completed bar), so the
// route is a lookup by frame index. Immutable after construction.

#include <string>
#include <vector>

#include "dag/plan.hpp"

namespace af {

class EventRouter {
 public:
  explicit EventRouter(const dag::Plan& plan) : flow_of_frame_(plan.frames.size(), -1) {
    for (size_t i = 0; i < plan.flows.size(); ++i) flow_of_frame_[plan.flows[i].frame] = static_cast<int>(i);
  }
  // The flow triggered by a new row of `frame`, or -1 when nothing consumes it.
  int route(int frame) const { return flow_of_frame_[frame]; }

 private:
  std::vector<int> flow_of_frame_;
};

}  // namespace af
