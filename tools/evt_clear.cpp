// evt_clear NAME: clears the latched event NAME, creating it (clear) if needed; evt_wait NAME
// then blocks until the next evt_set NAME.
// Exit status: 0 clear; 2 usage error (a usage line on stderr) or an invalid AXON_PREFIX or
// AXON_ROOT; 3 any other failure.
#include "evt_tool.hpp"

int main(int argc, char** argv) {
  static constexpr axon::evt_tool::Tool kTool{
      "evt_clear", "usage: evt_clear NAME",
      "Clears the latched event NAME (creating it if needed); waiters block until the next set.\n"
      "NAME follows the rules of service names, e.g. robot/ready.\n"
      "Exit status: 0 cleared, 2 usage error or invalid AXON_PREFIX/AXON_ROOT, 3 other failure.\n"};
  return axon::evt_tool::run_on_event(kTool, argc, argv, [](axon::SystemEvent& e) { e.clear(); });
}
