// event_multiplexing_notifier SERVICE EVENT_ID: notifies once a second, for a waiter that
// multiplexes several services (event_multiplexing_wait).
//   [service: "fuu"] Trigger event with id 123 ...
#include "../event_notifier_main.hpp"

int main(int argc, char** argv) {
  return axon::examples::run_event_notifier(argc, argv, "event_multiplexing_notifier");
}
