// evt_set NAME: sets the latched event NAME, creating it if needed, and so releases every
// evt_wait and SystemEvent::wait on it in every process. It stays set until evt_clear NAME.
// Exit status: 0 set; 2 usage error (a usage line on stderr) or an invalid AXON_PREFIX or
// AXON_ROOT; 3 any other failure.
#include "evt_tool.hpp"

int main(int argc, char** argv) {
  static constexpr axon::evt_tool::Tool kTool{
      "evt_set", "usage: evt_set NAME",
      "Sets the latched event NAME (creating it if needed) and releases every waiter.\n"
      "NAME follows the rules of service names, e.g. robot/ready.\n"
      "Exit status: 0 set, 2 usage error or invalid AXON_PREFIX/AXON_ROOT, 3 other failure.\n"};
  return axon::evt_tool::run_on_event(kTool, argc, argv, [](axon::SystemEvent& e) { e.set(); });
}
