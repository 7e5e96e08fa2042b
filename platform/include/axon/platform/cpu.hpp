// What a busy-polling loop tells the CPU.
#pragma once

#include <atomic>

namespace axon::platform {

/// One round of a spin-wait: lets the sibling hyper-thread run and saves power, and stops the
/// CPU from speculating far ahead on a value that another core is about to change.
inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
  asm volatile("yield" ::: "memory");
#else
  asm volatile("" ::: "memory");
#endif
}

/// A full (store-load) fence, for the store-buffering handshakes of wake-ups (a waiter stores a
/// flag then loads the data; a producer stores the data then loads the flag). ThreadSanitizer
/// does not model fences (GCC refuses to build one under it, -Wtsan): there a seq_cst
/// read-modify-write of one shared word stands in, which orders the threads of one process that
/// both pass here, all TSan can see.
inline void store_load_fence() {
#if defined(__SANITIZE_THREAD__)
  static std::atomic<int> word{0};
  word.fetch_add(0, std::memory_order_seq_cst);
#else
  std::atomic_thread_fence(std::memory_order_seq_cst);
#endif
}

}  // namespace axon::platform
