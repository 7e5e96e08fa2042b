// Shorthands for tests of the services layer.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "axon/axon.hpp"
#include "axon/core/service_layout.hpp"
#include "axon/detail/node_core.hpp"
#include "axon/platform/shared_memory.hpp"
#include "test_env.hpp"

namespace axon::test {

inline Node make_node(const std::string& name = "") {
  auto node = NodeBuilder().name(name).create();
  if (!node) {
    ADD_FAILURE() << "node creation failed: " << to_string(node.error());
    std::abort();
  }
  return std::move(*node);
}

inline ServiceName service_name(const std::string& stem) {
  return *ServiceName::create(unique_name(stem));
}

inline std::string backend_name(const ::testing::TestParamInfo<EventBackend>& info) {
  return to_string(info.param);
}

/// The `next_port_id` word of the dynamic config of service `name`, or null. Port ids start at
/// a random point in each service life: a test that plants something where a port's file will
/// be, or needs two services to hand out equal ids, reads or sets it here.
inline std::atomic<std::uint64_t>* next_port_id_word(const Config& config,
                                                     const ServiceName& name) {
  static std::vector<platform::SharedMemory> mappings;  // kept for the test's life
  auto shm = platform::SharedMemory::open(
      detail::Paths::service_dynamic(config, detail::Paths::service_hash(name.as_string())),
      platform::AccessMode::ReadWrite);
  if (!shm || shm->size() < sizeof(core::DynamicHeader)) return nullptr;
  auto* header = static_cast<core::DynamicHeader*>(shm->data());
  mappings.push_back(std::move(*shm));
  return &header->next_port_id;
}

inline std::uint64_t next_port_id(const Config& config, const ServiceName& name) {
  auto* word = next_port_id_word(config, name);
  return word != nullptr ? word->load() : 0;
}

}  // namespace axon::test

namespace axon::test {

/// Waits (polling discovery, bounded by `timeout`) until the service `name` shows `count` ports
/// of the kind `field` picks, e.g. `&ServiceInfo::subscribers`. A barrier for tests that start
/// example programs, never a verdict.
inline bool wait_for_ports(const std::string& name, std::size_t ServiceInfo::*field,
                           std::size_t count,
                           std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  const auto service = ServiceName::create(name);
  if (!service) return false;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (auto info = describe_service(*service); info && (*info).*field >= count) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return false;
}

}  // namespace axon::test

namespace axon::test {

/// Polls `condition` until true or `timeout`: a barrier between processes, never a verdict.
template <typename F>
bool eventually(F&& condition, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

}  // namespace axon::test
